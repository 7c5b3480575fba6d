/* Generic netlink plumbing for the kernel WireGuard calls: see WireGuardNetlink.h. */
#define _GNU_SOURCE
#include "WireGuardNetlink.h"
#include <errno.h>
#include <linux/wireguard.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int crl_wg_put(unsigned char *message, size_t capacity, uint16_t type, const void *data, size_t length) {
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    size_t offset = NLMSG_ALIGN(header->nlmsg_len);
    size_t total = NLA_HDRLEN + length;
    if (total > UINT16_MAX || offset + NLA_ALIGN(total) > capacity) return -EMSGSIZE;
    struct nlattr *attribute = (struct nlattr *)(message + offset);
    attribute->nla_type = type;
    attribute->nla_len = (uint16_t)total;
    if (length > 0) memcpy((unsigned char *)attribute + NLA_HDRLEN, data, length);
    memset((unsigned char *)attribute + total, 0, NLA_ALIGN(total) - total);
    header->nlmsg_len = (uint32_t)(offset + NLA_ALIGN(total));
    return 0;
}

long crl_wg_start_nest(unsigned char *message, size_t capacity, uint16_t type) {
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    long offset = (long)NLMSG_ALIGN(header->nlmsg_len);
    int result = crl_wg_put(message, capacity, type | NLA_F_NESTED, NULL, 0);
    return result != 0 ? result : offset;
}

void crl_wg_end_nest(unsigned char *message, long offset) {
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    struct nlattr *attribute = (struct nlattr *)(message + offset);
    attribute->nla_len = (uint16_t)(header->nlmsg_len - (uint32_t)offset);
}

void crl_wg_start(crl_wg_socket *socket_, unsigned char *message, size_t capacity, uint16_t family, uint8_t command,
                  uint8_t version, uint16_t flags) {
    memset(message, 0, capacity);
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    header->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    header->nlmsg_type = family;
    header->nlmsg_flags = NLM_F_REQUEST | flags;
    header->nlmsg_seq = ++socket_->sequence;
    struct genlmsghdr *generic = NLMSG_DATA(header);
    generic->cmd = command;
    generic->version = version;
}

int crl_wg_send(crl_wg_socket *socket_, const unsigned char *message) {
    const struct nlmsghdr *header = (const struct nlmsghdr *)message;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t sent;
    do {
        sent = sendto(socket_->fd, message, header->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -errno : 0;
}

ssize_t crl_wg_receive(crl_wg_socket *socket_) {
    ssize_t length;
    do {
        length = recv(socket_->fd, socket_->buffer, crl_wg_receive_size, 0);
    } while (length < 0 && errno == EINTR);
    return length < 0 ? -errno : length;
}

int crl_wg_await_ack(crl_wg_socket *socket_) {
    for (;;) {
        ssize_t length = crl_wg_receive(socket_);
        if (length < 0) return (int)length;
        for (struct nlmsghdr *reply = (struct nlmsghdr *)socket_->buffer; NLMSG_OK(reply, length);
             reply = NLMSG_NEXT(reply, length)) {
            if (reply->nlmsg_type == NLMSG_ERROR && reply->nlmsg_seq == socket_->sequence) {
                return ((struct nlmsgerr *)NLMSG_DATA(reply))->error;
            }
        }
    }
}

/* Resolves the "wireguard" generic netlink family; its id, or a negative errno (-ENOENT: the module is not loaded). */
static int resolve_family(crl_wg_socket *socket_) {
    unsigned char message[128];
    crl_wg_start(socket_, message, sizeof message, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK);
    int result = crl_wg_put(message, sizeof message, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME, strlen(WG_GENL_NAME) + 1);
    if (result == 0) result = crl_wg_send(socket_, message);
    if (result != 0) return result;
    int family = -ENOENT;
    for (;;) {
        ssize_t length = crl_wg_receive(socket_);
        if (length < 0) return (int)length;
        for (struct nlmsghdr *header = (struct nlmsghdr *)socket_->buffer; NLMSG_OK(header, length);
             header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *error = NLMSG_DATA(header);
                if (error->error != 0) return error->error;
                return family;  /* the ack ends the reply */
            }
            if (header->nlmsg_type != GENL_ID_CTRL) continue;
            unsigned char *start = (unsigned char *)NLMSG_DATA(header) + GENL_HDRLEN;
            size_t available = header->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
            CRL_FOR_EACH_ATTRIBUTE(attribute, start, available) {
                if (CRL_ATTRIBUTE_TYPE(attribute) == CTRL_ATTR_FAMILY_ID && CRL_ATTRIBUTE_LENGTH(attribute) >= 2) {
                    uint16_t id;
                    memcpy(&id, CRL_ATTRIBUTE_DATA(attribute), 2);
                    family = id;
                }
            }
        }
    }
}

int crl_wg_open(crl_wg_socket *socket_) {
    socket_->sequence = 0;
    socket_->buffer = NULL;
    socket_->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (socket_->fd < 0) return -errno;
    socket_->buffer = calloc(1, crl_wg_receive_size);
    int family = socket_->buffer ? 0 : -ENOMEM;
    struct timeval timeout = {.tv_sec = 2};
    if (family == 0) setsockopt(socket_->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (family == 0) family = resolve_family(socket_);
    if (family < 0) crl_wg_close(socket_);
    return family;
}

void crl_wg_close(crl_wg_socket *socket_) {
    if (socket_->buffer) explicit_bzero(socket_->buffer, crl_wg_receive_size);
    free(socket_->buffer);
    socket_->buffer = NULL;
    close(socket_->fd);
}
