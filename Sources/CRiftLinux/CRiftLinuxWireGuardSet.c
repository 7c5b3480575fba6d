/* Changes a kernel WireGuard device over generic netlink (WG_CMD_SET_DEVICE, linux/wireguard.h) instead of spawning
 * `wg set`: a peer's endpoint, keepalive and allowed IPs, its removal, and an immediate keepalive. Reads:
 * CRiftLinuxWireGuard.c. */
#define _GNU_SOURCE
#include "CRiftLinux.h"
#include "WireGuardNetlink.h"
#include <errno.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Allowed IPs per request: at most 40 bytes each, so a request stays far below the socket's send buffer. A longer list
 * continues in further requests naming the same peer (UPDATE_ONLY, no REPLACE), as `wg` splits it. */
enum { allowed_ips_per_request = 1000, request_overhead = 512 };

static int put_allowed_ip(unsigned char *message, size_t capacity, const CRiftLinux_wg_allowed_ip *allowed, uint16_t index) {
    if (allowed->family != AF_INET && allowed->family != AF_INET6) return -EINVAL;
    long entry = crl_wg_start_nest(message, capacity, index);
    if (entry < 0) return (int)entry;
    uint16_t family = allowed->family;
    int result = crl_wg_put(message, capacity, WGALLOWEDIP_A_FAMILY, &family, sizeof family);
    if (result == 0) result = crl_wg_put(message, capacity, WGALLOWEDIP_A_IPADDR, allowed->address,
                                         allowed->family == AF_INET ? 4 : 16);
    if (result == 0) result = crl_wg_put(message, capacity, WGALLOWEDIP_A_CIDR_MASK, &allowed->cidr, 1);
    if (result == 0) crl_wg_end_nest(message, entry);
    return result;
}

static int put_endpoint(unsigned char *message, size_t capacity, const CRiftLinux_wg_peer_change *change) {
    if (change->endpoint_family == AF_INET) {
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(change->endpoint_port)};
        memcpy(&address.sin_addr, change->endpoint_address, 4);
        return crl_wg_put(message, capacity, WGPEER_A_ENDPOINT, &address, sizeof address);
    }
    if (change->endpoint_family == AF_INET6) {
        struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_port = htons(change->endpoint_port)};
        memcpy(&address.sin6_addr, change->endpoint_address, 16);
        return crl_wg_put(message, capacity, WGPEER_A_ENDPOINT, &address, sizeof address);
    }
    return change->endpoint_family == 0 ? 0 : -EINVAL;
}

/* One WG_CMD_SET_DEVICE request for `change`'s peer carrying allowed IPs [first, first + count): the first request
 * carries everything else too; a continuation only more allowed IPs. */
static int build_request(crl_wg_socket *socket_, unsigned char *message, size_t capacity, uint16_t family,
                         const char *interface_name, const CRiftLinux_wg_peer_change *change, uint32_t first,
                         uint32_t count) {
    crl_wg_start(socket_, message, capacity, family, WG_CMD_SET_DEVICE, WG_GENL_VERSION, NLM_F_ACK);
    int result = crl_wg_put(message, capacity, WGDEVICE_A_IFNAME, interface_name, strlen(interface_name) + 1);
    long peers = result == 0 ? crl_wg_start_nest(message, capacity, WGDEVICE_A_PEERS) : result;
    long peer = peers >= 0 ? crl_wg_start_nest(message, capacity, 0) : peers;
    if (peer < 0) return (int)peer;
    result = crl_wg_put(message, capacity, WGPEER_A_PUBLIC_KEY, change->public_key, WG_KEY_LEN);
    uint32_t flags = 0;
    if (change->remove) flags = WGPEER_F_REMOVE_ME;
    else if (first > 0) flags = WGPEER_F_UPDATE_ONLY;
    else if (change->allowed_ips_mode == CRiftLinux_wg_replace_allowed_ips) flags = WGPEER_F_REPLACE_ALLOWEDIPS;
    if (result == 0 && flags != 0) result = crl_wg_put(message, capacity, WGPEER_A_FLAGS, &flags, sizeof flags);
    if (result == 0 && first == 0 && !change->remove) {
        result = put_endpoint(message, capacity, change);
        if (result == 0) result = crl_wg_put(message, capacity, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
                                             &change->persistent_keepalive, sizeof change->persistent_keepalive);
    }
    if (result == 0 && count > 0) {
        long list = crl_wg_start_nest(message, capacity, WGPEER_A_ALLOWEDIPS);
        if (list < 0) return (int)list;
        for (uint32_t index = 0; index < count && result == 0; index++) {
            result = put_allowed_ip(message, capacity, &change->allowed_ips[first + index], (uint16_t)index);
        }
        if (result == 0) crl_wg_end_nest(message, list);
    }
    if (result != 0) return result;
    crl_wg_end_nest(message, peer);
    crl_wg_end_nest(message, peers);
    return 0;
}

int CRiftLinux_wg_set_peer(const char *interface_name, const CRiftLinux_wg_peer_change *change) {
    if (strlen(interface_name) >= IFNAMSIZ) return -EINVAL;
    uint32_t count = change->remove || change->allowed_ips_mode == CRiftLinux_wg_leave_allowed_ips
                         ? 0 : change->allowed_ip_count;
    if (count > 0 && change->allowed_ips == NULL) return -EINVAL;
    size_t capacity = request_overhead + (size_t)allowed_ips_per_request * 40;
    unsigned char *message = malloc(capacity);
    if (!message) return -ENOMEM;
    crl_wg_socket socket_;
    int result = crl_wg_open(&socket_);
    if (result >= 0) {
        uint16_t family = (uint16_t)result;
        result = 0;
        uint32_t first = 0;
        do {
            uint32_t chunk = count - first > allowed_ips_per_request ? allowed_ips_per_request : count - first;
            result = build_request(&socket_, message, capacity, family, interface_name, change, first, chunk);
            if (result == 0) result = crl_wg_send(&socket_, message);
            if (result == 0) result = crl_wg_await_ack(&socket_);
            first += chunk;
        } while (result == 0 && first < count);
        crl_wg_close(&socket_);
    }
    free(message);
    return result;
}

int CRiftLinux_wg_send_keepalive(const char *interface_name, const uint8_t *public_key, uint16_t interval) {
    if (strlen(interface_name) >= IFNAMSIZ || interval == 0) return -EINVAL;
    crl_wg_socket socket_;
    int family = crl_wg_open(&socket_);
    if (family < 0) return family;
    unsigned char message[512];
    crl_wg_start(&socket_, message, sizeof message, (uint16_t)family, WG_CMD_SET_DEVICE, WG_GENL_VERSION, NLM_F_ACK);
    int result = crl_wg_put(message, sizeof message, WGDEVICE_A_IFNAME, interface_name, strlen(interface_name) + 1);
    long peers = result == 0 ? crl_wg_start_nest(message, sizeof message, WGDEVICE_A_PEERS) : result;
    /* The same peer twice, as `wg set … persistent-keepalive off … persistent-keepalive N` sends it: the kernel sends a
     * keepalive when a set turns the interval from 0 to non-zero. UPDATE_ONLY: a peer that is gone is not re-created. */
    const uint16_t intervals[2] = {0, interval};
    const uint32_t flags = WGPEER_F_UPDATE_ONLY;
    for (int index = 0; index < 2 && peers >= 0 && result == 0; index++) {
        long peer = crl_wg_start_nest(message, sizeof message, (uint16_t)index);
        if (peer < 0) { result = (int)peer; break; }
        result = crl_wg_put(message, sizeof message, WGPEER_A_PUBLIC_KEY, public_key, WG_KEY_LEN);
        if (result == 0) result = crl_wg_put(message, sizeof message, WGPEER_A_FLAGS, &flags, sizeof flags);
        if (result == 0) result = crl_wg_put(message, sizeof message, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
                                             &intervals[index], sizeof intervals[index]);
        if (result == 0) crl_wg_end_nest(message, peer);
    }
    if (peers < 0) result = (int)peers;
    if (result == 0) {
        crl_wg_end_nest(message, peers);
        result = crl_wg_send(&socket_, message);
    }
    if (result == 0) result = crl_wg_await_ack(&socket_);
    crl_wg_close(&socket_);
    return result;
}
