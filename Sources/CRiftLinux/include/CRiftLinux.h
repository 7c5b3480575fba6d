#ifndef CRIFT_LINUX_H
#define CRIFT_LINUX_H
/* Linux system calls the agent's data path uses that Swift's Glibc module does not expose:
 * epoll (not in the Glibc module map) and recvmmsg/sendmmsg (their struct mmsghdr needs _GNU_SOURCE,
 * which Swift's Glibc is not built with), SO_PEERCRED's struct ucred (same reason), and rtnetlink's struct
 * sockaddr_nl (linux/netlink.h is not in the Glibc module). Imported only by RiftAgent's
 * DataPath files and its control socket, by RiftSupport's system-call funnel (pipe2, accept4: both need
 * _GNU_SOURCE too), and by RiftWireGuard for kernel WireGuard's generic netlink family (CRiftLinux_wg_*). */
#include <spawn.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

/* Same layout as glibc's struct mmsghdr (checked with _Static_assert in CRiftLinux.c). */
typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} CRiftLinux_mmsghdr;

/* recvmmsg(2): receive up to vlen datagrams in one call. */
int CRiftLinux_recvmmsg(int fd, CRiftLinux_mmsghdr *messages, unsigned int vlen, int flags);
/* sendmmsg(2): send up to vlen datagrams in one call; returns how many were sent, or -1 with errno set. */
int CRiftLinux_sendmmsg(int fd, CRiftLinux_mmsghdr *messages, unsigned int vlen, int flags);
/* A NETLINK_ROUTE socket (close-on-exec, non-blocking) subscribed to link, IPv4/IPv6 address and IPv4/IPv6 route
 * changes (RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE), with a
 * 1 MiB receive buffer. Returns the descriptor, or -1 with errno set. Used by the agent's underlay monitor. */
int CRiftLinux_route_monitor_socket(void);
/* The user id of the process at the other end of a Unix socket (SO_PEERCRED; struct ucred needs _GNU_SOURCE).
 * Returns 0 and sets *uid, or -1 with errno set. Used by the agent's control socket. */
int CRiftLinux_peer_uid(int fd, unsigned int *uid);
/* mallopt(M_ARENA_MAX, count): at most `count` glibc malloc arenas for the whole process (glibc otherwise creates one
 * per thread that contends, up to 8 per core, each keeping its own free memory resident). Effective when called
 * before the process has 8 arenas; returns mallopt's result (1 on success). Used by the agent at start-up. */
int CRiftLinux_limit_malloc_arenas(int count);
/* mallopt(M_MMAP_THRESHOLD, bytes): every allocation of `bytes` or more gets a mapping of its own (and glibc's dynamic
 * threshold, which otherwise climbs to 32 MiB, stays put), so its pages become resident only when written and return to
 * the system when freed. Returns mallopt's result (1 on success). Used by the agent at start-up. */
int CRiftLinux_set_malloc_mmap_threshold(int bytes);
/* Whether glibc serves the allocation `pointer` (from malloc) from a mapping of its own: the IS_MMAPPED bit of its chunk's
 * size field, the word before the pointer (glibc's malloc.c chunk layout). For tests. */
int CRiftLinux_is_mapped_allocation(const void *pointer);
/* Gives back the pages of [start, start + length), a read-only file mapping of this process that holds no page of its
 * own (no copy-on-write page: the caller checked smaps' Anonymous field), so that every page of it equals the file:
 * madvise MADV_RANDOM (a later fault maps that page only: no fault-around, no read-ahead), then MADV_DONTNEED (this
 * process stops mapping them; they stay in the page cache, where memory pressure reclaims unmapped pages first). Not
 * MADV_PAGEOUT: it would evict the pages the agent still runs from the page cache, and each would come back with a disk
 * read. A page touched again faults back in (a minor fault). Returns 0, or the failing call's errno. Used by the agent. */
int CRiftLinux_release_file_pages(unsigned long start, unsigned long length);
/// Names the calling thread (first 15 bytes: the kernel's limit), as `top -H` and `ps -L` show it. 0 or an errno.
int CRiftLinux_name_this_thread(const char *name);

/* pipe2(fds, O_CLOEXEC): a pipe whose ends a child process never inherits, made atomically. 0, or -1 with errno. */
int CRiftLinux_pipe_cloexec(int fds[2]);
/* accept4(2): a connection accepted with `flags` (SOCK_CLOEXEC, SOCK_NONBLOCK) set atomically; the peer address is
 * not returned. The descriptor, or -1 with errno. */
int CRiftLinux_accept4(int fd, int flags);
/* Raises (SO_RCVBUFFORCE, SO_SNDBUFFORCE) to `bytes` the buffers smaller than that of every IPv4/IPv6 UDP socket process `pid` holds, reaching them
 * through pidfd_open(2) and pidfd_getfd(2) (Linux 5.6; needs ptrace rights over the process and CAP_NET_ADMIN). The
 * number of sockets raised (0 when it holds none yet), or -1 with errno. */
int CRiftLinux_force_udp_buffers_of_process(int pid, int bytes);
/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34; needs _GNU_SOURCE): the child closes every descriptor from
 * `from` up, close-on-exec or not. 0 or an errno. Used by RiftSupport's child spawner. */
int CRiftLinux_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/* A kernel WireGuard device as WG_CMD_GET_DEVICE reports it (generic netlink), without its private key. */
typedef struct {
    uint8_t family; /* AF_INET or AF_INET6 */
    uint8_t cidr;
    uint8_t address[16];
} CRiftLinux_wg_allowed_ip;
typedef struct {
    uint8_t public_key[32];
    uint8_t endpoint_family; /* 0 (none), AF_INET or AF_INET6 */
    uint8_t endpoint_address[16];
    uint16_t endpoint_port; /* host byte order */
    uint16_t persistent_keepalive; /* seconds, 0 off */
    int64_t last_handshake_seconds; /* 0 never */
    uint64_t rx_bytes;
    uint64_t tx_bytes;
    uint32_t first_allowed_ip; /* index into the device's allowed_ips */
    uint32_t allowed_ip_count;
} CRiftLinux_wg_peer;
typedef struct {
    uint16_t listen_port;
    int has_public_key;
    uint8_t public_key[32];
    CRiftLinux_wg_peer *peers;
    uint32_t peer_count, peer_capacity;
    CRiftLinux_wg_allowed_ip *allowed_ips;
    uint32_t allowed_ip_count, allowed_ip_capacity;
} CRiftLinux_wg_device;
/* Reads kernel WireGuard interface `interface_name` of this network namespace over generic netlink; 0, or a negative
 * errno (-ENOENT: no WireGuard family or no such device, -ENODEV, -EPERM). Free with CRiftLinux_wg_device_free. */
int CRiftLinux_wg_get_device(const char *interface_name, CRiftLinux_wg_device *device);
void CRiftLinux_wg_device_free(CRiftLinux_wg_device *device);
/* Makes kernel WireGuard send a keepalive to the peer with the 32-byte `public_key` now, leaving its persistent
 * keepalive at `interval` seconds (> 0): one WG_CMD_SET_DEVICE naming the peer twice, interval 0 then `interval`, with
 * WGPEER_F_UPDATE_ONLY. 0, or a negative errno. */
int CRiftLinux_wg_send_keepalive(const char *interface_name, const uint8_t *public_key, uint16_t interval);

/* A change to one peer of a kernel WireGuard device, for CRiftLinux_wg_set_peer. */
enum { CRiftLinux_wg_leave_allowed_ips = 0, CRiftLinux_wg_add_allowed_ips = 1, CRiftLinux_wg_replace_allowed_ips = 2 };
typedef struct {
    uint8_t public_key[32];
    uint8_t remove; /* 1: remove the peer (nothing else is read) */
    uint8_t endpoint_family; /* 0 leaves the endpoint as it is, else AF_INET or AF_INET6 */
    uint8_t endpoint_address[16];
    uint16_t endpoint_port; /* host byte order */
    uint16_t persistent_keepalive; /* seconds, 0 off */
    uint8_t allowed_ips_mode; /* CRiftLinux_wg_leave_allowed_ips, _add_allowed_ips or _replace_allowed_ips */
    const CRiftLinux_wg_allowed_ip *allowed_ips;
    uint32_t allowed_ip_count;
} CRiftLinux_wg_peer_change;
/* Applies `change` to a peer of kernel WireGuard interface `interface_name` (creating the peer unless it is a removal):
 * one WG_CMD_SET_DEVICE, or several for more than 1,000 allowed IPs. 0, or a negative errno. */
int CRiftLinux_wg_set_peer(const char *interface_name, const CRiftLinux_wg_peer_change *change);

#endif
