/* Talks to kernel WireGuard over generic netlink (linux/wireguard.h) instead of spawning `wg`: WG_CMD_GET_DEVICE for
 * what `wg show dump` prints, and WG_CMD_SET_DEVICE for an immediate keepalive. The private key the kernel includes
 * in a privileged caller's dump is never copied out, and every receive buffer is wiped before it is freed. */
#define _GNU_SOURCE
#include "CRiftLinux.h"
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { receive_size = 65536 };

typedef struct {
    int fd;
    uint32_t sequence;
    unsigned char *buffer;
} wg_socket;

static int nla_put(unsigned char *message, size_t capacity, uint16_t type, const void *data, uint16_t length) {
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    size_t offset = NLMSG_ALIGN(header->nlmsg_len);
    size_t total = NLA_HDRLEN + length;
    if (offset + NLA_ALIGN(total) > capacity) return -EMSGSIZE;
    struct nlattr *attribute = (struct nlattr *)(message + offset);
    attribute->nla_type = type;
    attribute->nla_len = (uint16_t)total;
    if (length > 0) memcpy((unsigned char *)attribute + NLA_HDRLEN, data, length);
    memset((unsigned char *)attribute + total, 0, NLA_ALIGN(total) - total);
    header->nlmsg_len = (uint32_t)(offset + NLA_ALIGN(total));
    return 0;
}

/* Opens attribute `type` that nests the attributes put after it, up to nest_end. Its offset, or a negative errno. */
static long nest_start(unsigned char *message, size_t capacity, uint16_t type) {
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    long offset = (long)NLMSG_ALIGN(header->nlmsg_len);
    int result = nla_put(message, capacity, type | NLA_F_NESTED, NULL, 0);
    return result != 0 ? result : offset;
}

static void nest_end(unsigned char *message, long offset) {
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    struct nlattr *attribute = (struct nlattr *)(message + offset);
    attribute->nla_len = (uint16_t)(header->nlmsg_len - (uint32_t)offset);
}

/* Sends a generic netlink request of `command` to `family` with one string attribute. */
static int send_request(wg_socket *socket_, uint16_t family, uint8_t command, uint8_t version, uint16_t flags,
                        uint16_t attribute, const char *text) {
    unsigned char message[256];
    memset(message, 0, sizeof message);
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    header->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    header->nlmsg_type = family;
    header->nlmsg_flags = NLM_F_REQUEST | flags;
    header->nlmsg_seq = ++socket_->sequence;
    struct genlmsghdr *generic = NLMSG_DATA(header);
    generic->cmd = command;
    generic->version = version;
    int result = nla_put(message, sizeof message, attribute, text, (uint16_t)(strlen(text) + 1));
    if (result != 0) return result;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t sent;
    do {
        sent = sendto(socket_->fd, message, header->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -errno : 0;
}

/* Receives one datagram of replies; its length, or a negative errno. */
static ssize_t receive(wg_socket *socket_) {
    ssize_t length;
    do {
        length = recv(socket_->fd, socket_->buffer, receive_size, 0);
    } while (length < 0 && errno == EINTR);
    return length < 0 ? -errno : length;
}

static void close_wireguard(wg_socket *socket_) {
    if (socket_->buffer) explicit_bzero(socket_->buffer, receive_size);
    free(socket_->buffer);
    socket_->buffer = NULL;
    close(socket_->fd);
}

#define FOR_EACH_ATTRIBUTE(attribute, start, length)                                                            \
    for (struct nlattr *attribute = (struct nlattr *)(start);                                                    \
         (size_t)((unsigned char *)attribute - (unsigned char *)(start)) + NLA_HDRLEN <= (size_t)(length) &&    \
         attribute->nla_len >= NLA_HDRLEN &&                                                                     \
         (size_t)((unsigned char *)attribute - (unsigned char *)(start)) + attribute->nla_len <= (size_t)(length); \
         attribute = (struct nlattr *)((unsigned char *)attribute + NLA_ALIGN(attribute->nla_len)))

#define ATTRIBUTE_DATA(attribute) ((unsigned char *)(attribute) + NLA_HDRLEN)
#define ATTRIBUTE_LENGTH(attribute) ((size_t)(attribute)->nla_len - NLA_HDRLEN)
#define ATTRIBUTE_TYPE(attribute) ((attribute)->nla_type & NLA_TYPE_MASK)

/* Resolves the "wireguard" generic netlink family; its id, or a negative errno (-ENOENT: the module is not loaded). */
static int resolve_family(wg_socket *socket_) {
    int result = send_request(socket_, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK, CTRL_ATTR_FAMILY_NAME,
                              WG_GENL_NAME);
    if (result != 0) return result;
    int family = -ENOENT;
    for (;;) {
        ssize_t length = receive(socket_);
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
            FOR_EACH_ATTRIBUTE(attribute, start, available) {
                if (ATTRIBUTE_TYPE(attribute) == CTRL_ATTR_FAMILY_ID && ATTRIBUTE_LENGTH(attribute) >= 2) {
                    uint16_t id;
                    memcpy(&id, ATTRIBUTE_DATA(attribute), 2);
                    family = id;
                }
            }
        }
    }
}

static int grow(void **array, uint32_t *capacity, uint32_t needed, size_t element) {
    if (needed <= *capacity) return 0;
    uint32_t next = *capacity ? *capacity * 2 : 8;
    while (next < needed) next *= 2;
    void *grown = realloc(*array, (size_t)next * element);
    if (!grown) return -ENOMEM;
    *array = grown;
    *capacity = next;
    return 0;
}

static int add_allowed_ips(CRiftLinux_wg_device *device, unsigned char *start, size_t length) {
    FOR_EACH_ATTRIBUTE(entry, start, length) {
        CRiftLinux_wg_allowed_ip allowed = {0};
        FOR_EACH_ATTRIBUTE(field, ATTRIBUTE_DATA(entry), ATTRIBUTE_LENGTH(entry)) {
            switch (ATTRIBUTE_TYPE(field)) {
            case WGALLOWEDIP_A_FAMILY:
                if (ATTRIBUTE_LENGTH(field) >= 2) {
                    uint16_t family;
                    memcpy(&family, ATTRIBUTE_DATA(field), 2);
                    allowed.family = (uint8_t)family;
                }
                break;
            case WGALLOWEDIP_A_IPADDR:
                memcpy(allowed.address, ATTRIBUTE_DATA(field), ATTRIBUTE_LENGTH(field) > 16 ? 16 : ATTRIBUTE_LENGTH(field));
                break;
            case WGALLOWEDIP_A_CIDR_MASK:
                if (ATTRIBUTE_LENGTH(field) >= 1) allowed.cidr = *ATTRIBUTE_DATA(field);
                break;
            }
        }
        if (allowed.family != AF_INET && allowed.family != AF_INET6) continue;
        if (grow((void **)&device->allowed_ips, &device->allowed_ip_capacity, device->allowed_ip_count + 1,
                 sizeof allowed) != 0) return -ENOMEM;
        device->allowed_ips[device->allowed_ip_count++] = allowed;
        device->peers[device->peer_count - 1].allowed_ip_count++;
    }
    return 0;
}

static int add_peer(CRiftLinux_wg_device *device, unsigned char *start, size_t length) {
    CRiftLinux_wg_peer peer = {0};
    int has_key = 0;
    struct nlattr *allowed_ips = NULL;
    FOR_EACH_ATTRIBUTE(field, start, length) {
        size_t size = ATTRIBUTE_LENGTH(field);
        unsigned char *data = ATTRIBUTE_DATA(field);
        switch (ATTRIBUTE_TYPE(field)) {
        case WGPEER_A_PUBLIC_KEY:
            if (size == WG_KEY_LEN) { memcpy(peer.public_key, data, WG_KEY_LEN); has_key = 1; }
            break;
        case WGPEER_A_ENDPOINT:
            if (size >= sizeof(struct sockaddr_in6) && ((struct sockaddr *)data)->sa_family == AF_INET6) {
                struct sockaddr_in6 address;
                memcpy(&address, data, sizeof address);
                peer.endpoint_family = AF_INET6;
                memcpy(peer.endpoint_address, &address.sin6_addr, 16);
                peer.endpoint_port = ntohs(address.sin6_port);
            } else if (size >= sizeof(struct sockaddr_in) && ((struct sockaddr *)data)->sa_family == AF_INET) {
                struct sockaddr_in address;
                memcpy(&address, data, sizeof address);
                peer.endpoint_family = AF_INET;
                memcpy(peer.endpoint_address, &address.sin_addr, 4);
                peer.endpoint_port = ntohs(address.sin_port);
            }
            break;
        case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
            if (size >= 2) memcpy(&peer.persistent_keepalive, data, 2);
            break;
        case WGPEER_A_LAST_HANDSHAKE_TIME:
            if (size >= sizeof(struct __kernel_timespec)) {
                struct __kernel_timespec time_;
                memcpy(&time_, data, sizeof time_);
                peer.last_handshake_seconds = time_.tv_sec;
            }
            break;
        case WGPEER_A_RX_BYTES:
            if (size >= 8) memcpy(&peer.rx_bytes, data, 8);
            break;
        case WGPEER_A_TX_BYTES:
            if (size >= 8) memcpy(&peer.tx_bytes, data, 8);
            break;
        case WGPEER_A_ALLOWEDIPS:
            allowed_ips = field;
            break;
        }
    }
    if (!has_key) return 0;
    /* A peer with many allowed IPs continues in the next message: same key, more allowed IPs (linux/wireguard.h). */
    int continues = device->peer_count > 0 &&
                    memcmp(device->peers[device->peer_count - 1].public_key, peer.public_key, WG_KEY_LEN) == 0;
    if (!continues) {
        if (grow((void **)&device->peers, &device->peer_capacity, device->peer_count + 1, sizeof peer) != 0) return -ENOMEM;
        peer.first_allowed_ip = device->allowed_ip_count;
        device->peers[device->peer_count++] = peer;
    }
    return allowed_ips ? add_allowed_ips(device, ATTRIBUTE_DATA(allowed_ips), ATTRIBUTE_LENGTH(allowed_ips)) : 0;
}

static int add_device_message(CRiftLinux_wg_device *device, struct nlmsghdr *header) {
    unsigned char *start = (unsigned char *)NLMSG_DATA(header) + GENL_HDRLEN;
    size_t length = header->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
    FOR_EACH_ATTRIBUTE(attribute, start, length) {
        switch (ATTRIBUTE_TYPE(attribute)) {
        case WGDEVICE_A_LISTEN_PORT:
            if (ATTRIBUTE_LENGTH(attribute) >= 2) memcpy(&device->listen_port, ATTRIBUTE_DATA(attribute), 2);
            break;
        case WGDEVICE_A_PUBLIC_KEY:
            if (ATTRIBUTE_LENGTH(attribute) == WG_KEY_LEN) {
                memcpy(device->public_key, ATTRIBUTE_DATA(attribute), WG_KEY_LEN);
                device->has_public_key = 1;
            }
            break;
        case WGDEVICE_A_PEERS:
            FOR_EACH_ATTRIBUTE(peer, ATTRIBUTE_DATA(attribute), ATTRIBUTE_LENGTH(attribute)) {
                int result = add_peer(device, ATTRIBUTE_DATA(peer), ATTRIBUTE_LENGTH(peer));
                if (result != 0) return result;
            }
            break;
        }
    }
    return 0;
}

/* Opens a generic netlink socket (2 s receive timeout) and resolves WireGuard's family: the family id, or a negative
 * errno (the socket is then closed). */
static int open_wireguard(wg_socket *socket_) {
    socket_->sequence = 0;
    socket_->buffer = NULL;
    socket_->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (socket_->fd < 0) return -errno;
    socket_->buffer = calloc(1, receive_size);
    int family = socket_->buffer ? 0 : -ENOMEM;
    struct timeval timeout = {.tv_sec = 2};
    if (family == 0) setsockopt(socket_->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (family == 0) family = resolve_family(socket_);
    if (family < 0) close_wireguard(socket_);
    return family;
}

int CRiftLinux_wg_get_device(const char *interface_name, CRiftLinux_wg_device *device) {
    memset(device, 0, sizeof *device);
    if (strlen(interface_name) >= IFNAMSIZ) return -EINVAL;
    wg_socket socket_;
    int family = open_wireguard(&socket_);
    if (family < 0) return family;
    int result = send_request(&socket_, (uint16_t)family, WG_CMD_GET_DEVICE, WG_GENL_VERSION, NLM_F_DUMP | NLM_F_ACK,
                              WGDEVICE_A_IFNAME, interface_name);
    int done = 0;
    while (result == 0 && !done) {
        ssize_t length = receive(&socket_);
        if (length < 0) { result = (int)length; break; }
        for (struct nlmsghdr *header = (struct nlmsghdr *)socket_.buffer; NLMSG_OK(header, length);
             header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_DONE) { done = 1; break; }
            if (header->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *error = NLMSG_DATA(header);
                if (error->error != 0) result = error->error;
                done = 1;
                break;
            }
            if (header->nlmsg_type != family) continue;
            result = add_device_message(device, header);
            if (result != 0) break;
        }
        explicit_bzero(socket_.buffer, receive_size);  /* it held the private key */
    }
    close_wireguard(&socket_);
    if (result != 0) CRiftLinux_wg_device_free(device);
    return result;
}

int CRiftLinux_wg_send_keepalive(const char *interface_name, const uint8_t *public_key, uint16_t interval) {
    if (strlen(interface_name) >= IFNAMSIZ || interval == 0) return -EINVAL;
    wg_socket socket_;
    int family = open_wireguard(&socket_);
    if (family < 0) return family;
    unsigned char message[512];
    memset(message, 0, sizeof message);
    struct nlmsghdr *header = (struct nlmsghdr *)message;
    header->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    header->nlmsg_type = (uint16_t)family;
    header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    header->nlmsg_seq = ++socket_.sequence;
    struct genlmsghdr *generic = NLMSG_DATA(header);
    generic->cmd = WG_CMD_SET_DEVICE;
    generic->version = WG_GENL_VERSION;
    int result = nla_put(message, sizeof message, WGDEVICE_A_IFNAME, interface_name, (uint16_t)(strlen(interface_name) + 1));
    long peers = result == 0 ? nest_start(message, sizeof message, WGDEVICE_A_PEERS) : result;
    /* The same peer twice, as `wg set … persistent-keepalive off … persistent-keepalive N` sends it: the kernel sends a
     * keepalive when a set turns the interval from 0 to non-zero. UPDATE_ONLY: a peer that is gone is not re-created. */
    const uint16_t intervals[2] = {0, interval};
    const uint32_t flags = WGPEER_F_UPDATE_ONLY;
    for (int index = 0; index < 2 && peers >= 0 && result == 0; index++) {
        long peer = nest_start(message, sizeof message, (uint16_t)index);
        if (peer < 0) { result = (int)peer; break; }
        result = nla_put(message, sizeof message, WGPEER_A_PUBLIC_KEY, public_key, WG_KEY_LEN);
        if (result == 0) result = nla_put(message, sizeof message, WGPEER_A_FLAGS, &flags, sizeof flags);
        if (result == 0) result = nla_put(message, sizeof message, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
                                          &intervals[index], sizeof intervals[index]);
        if (result == 0) nest_end(message, peer);
    }
    if (peers < 0) result = (int)peers;
    if (result == 0) {
        nest_end(message, peers);
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
        ssize_t sent;
        do {
            sent = sendto(socket_.fd, message, header->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) result = -errno;
    }
    while (result == 0) {
        ssize_t length = receive(&socket_);
        if (length < 0) { result = (int)length; break; }
        int acknowledged = 0;
        for (struct nlmsghdr *reply = (struct nlmsghdr *)socket_.buffer; NLMSG_OK(reply, length);
             reply = NLMSG_NEXT(reply, length)) {
            if (reply->nlmsg_type == NLMSG_ERROR) {
                result = ((struct nlmsgerr *)NLMSG_DATA(reply))->error;
                acknowledged = 1;
                break;
            }
        }
        if (acknowledged) break;
    }
    close_wireguard(&socket_);
    return result;
}

void CRiftLinux_wg_device_free(CRiftLinux_wg_device *device) {
    free(device->peers);
    free(device->allowed_ips);
    memset(device, 0, sizeof *device);
}
