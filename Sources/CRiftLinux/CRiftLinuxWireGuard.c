/* Reads a kernel WireGuard device over generic netlink (WG_CMD_GET_DEVICE, linux/wireguard.h): what `wg show dump`
 * prints, without spawning `wg`. The private key the kernel includes in a privileged caller's dump is never copied
 * out, and the receive buffer is wiped after every datagram. Changes to a device: CRiftLinuxWireGuardSet.c. */
#define _GNU_SOURCE
#include "CRiftLinux.h"
#include "WireGuardNetlink.h"
#include <errno.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
    CRL_FOR_EACH_ATTRIBUTE(entry, start, length) {
        CRiftLinux_wg_allowed_ip allowed = {0};
        CRL_FOR_EACH_ATTRIBUTE(field, CRL_ATTRIBUTE_DATA(entry), CRL_ATTRIBUTE_LENGTH(entry)) {
            switch (CRL_ATTRIBUTE_TYPE(field)) {
            case WGALLOWEDIP_A_FAMILY:
                if (CRL_ATTRIBUTE_LENGTH(field) >= 2) {
                    uint16_t family;
                    memcpy(&family, CRL_ATTRIBUTE_DATA(field), 2);
                    allowed.family = (uint8_t)family;
                }
                break;
            case WGALLOWEDIP_A_IPADDR:
                memcpy(allowed.address, CRL_ATTRIBUTE_DATA(field), CRL_ATTRIBUTE_LENGTH(field) > 16 ? 16 : CRL_ATTRIBUTE_LENGTH(field));
                break;
            case WGALLOWEDIP_A_CIDR_MASK:
                if (CRL_ATTRIBUTE_LENGTH(field) >= 1) allowed.cidr = *CRL_ATTRIBUTE_DATA(field);
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
    CRL_FOR_EACH_ATTRIBUTE(field, start, length) {
        size_t size = CRL_ATTRIBUTE_LENGTH(field);
        unsigned char *data = CRL_ATTRIBUTE_DATA(field);
        switch (CRL_ATTRIBUTE_TYPE(field)) {
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
    return allowed_ips ? add_allowed_ips(device, CRL_ATTRIBUTE_DATA(allowed_ips), CRL_ATTRIBUTE_LENGTH(allowed_ips)) : 0;
}

static int add_device_message(CRiftLinux_wg_device *device, struct nlmsghdr *header) {
    unsigned char *start = (unsigned char *)NLMSG_DATA(header) + GENL_HDRLEN;
    size_t length = header->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
    CRL_FOR_EACH_ATTRIBUTE(attribute, start, length) {
        switch (CRL_ATTRIBUTE_TYPE(attribute)) {
        case WGDEVICE_A_LISTEN_PORT:
            if (CRL_ATTRIBUTE_LENGTH(attribute) >= 2) memcpy(&device->listen_port, CRL_ATTRIBUTE_DATA(attribute), 2);
            break;
        case WGDEVICE_A_PUBLIC_KEY:
            if (CRL_ATTRIBUTE_LENGTH(attribute) == WG_KEY_LEN) {
                memcpy(device->public_key, CRL_ATTRIBUTE_DATA(attribute), WG_KEY_LEN);
                device->has_public_key = 1;
            }
            break;
        case WGDEVICE_A_PEERS:
            CRL_FOR_EACH_ATTRIBUTE(peer, CRL_ATTRIBUTE_DATA(attribute), CRL_ATTRIBUTE_LENGTH(attribute)) {
                int result = add_peer(device, CRL_ATTRIBUTE_DATA(peer), CRL_ATTRIBUTE_LENGTH(peer));
                if (result != 0) return result;
            }
            break;
        }
    }
    return 0;
}

int CRiftLinux_wg_get_device(const char *interface_name, CRiftLinux_wg_device *device) {
    memset(device, 0, sizeof *device);
    if (strlen(interface_name) >= IFNAMSIZ) return -EINVAL;
    crl_wg_socket socket_;
    int family = crl_wg_open(&socket_);
    if (family < 0) return family;
    unsigned char message[64];
    crl_wg_start(&socket_, message, sizeof message, (uint16_t)family, WG_CMD_GET_DEVICE, WG_GENL_VERSION,
                 NLM_F_DUMP | NLM_F_ACK);
    int result = crl_wg_put(message, sizeof message, WGDEVICE_A_IFNAME, interface_name, strlen(interface_name) + 1);
    if (result == 0) result = crl_wg_send(&socket_, message);
    int done = 0;
    while (result == 0 && !done) {
        ssize_t length = crl_wg_receive(&socket_);
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
        explicit_bzero(socket_.buffer, crl_wg_receive_size);  /* it held the private key */
    }
    crl_wg_close(&socket_);
    if (result != 0) CRiftLinux_wg_device_free(device);
    return result;
}

void CRiftLinux_wg_device_free(CRiftLinux_wg_device *device) {
    free(device->peers);
    free(device->allowed_ips);
    memset(device, 0, sizeof *device);
}
