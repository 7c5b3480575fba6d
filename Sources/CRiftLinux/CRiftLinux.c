#define _GNU_SOURCE
#include "CRiftLinux.h"
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(CRiftLinux_mmsghdr) == sizeof(struct mmsghdr), "CRiftLinux_mmsghdr size differs from mmsghdr");
_Static_assert(offsetof(CRiftLinux_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "msg_len offset differs");

int CRiftLinux_recvmmsg(int fd, CRiftLinux_mmsghdr *messages, unsigned int vlen, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, vlen, flags, NULL);
}

int CRiftLinux_sendmmsg(int fd, CRiftLinux_mmsghdr *messages, unsigned int vlen, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, vlen, flags);
}


int CRiftLinux_peer_uid(int fd, unsigned int *uid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    return 0;
}

int CRiftLinux_route_monitor_socket(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0) return -1;
    int size = 1 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    struct sockaddr_nl address;
    memset(&address, 0, sizeof(address));
    address.nl_family = AF_NETLINK;
    address.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int CRiftLinux_limit_malloc_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}

int CRiftLinux_set_malloc_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

int CRiftLinux_is_mapped_allocation(const void *pointer) {
    const size_t size_field = ((const size_t *)pointer)[-1];
    return (size_field & 0x2) != 0;  /* IS_MMAPPED */
}

#include <pthread.h>

int CRiftLinux_name_this_thread(const char *name) {
    char shortened[16];
    strncpy(shortened, name, sizeof(shortened) - 1);
    shortened[sizeof(shortened) - 1] = 0;
    return pthread_setname_np(pthread_self(), shortened);
}

int CRiftLinux_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int CRiftLinux_accept4(int fd, int flags) {
    return accept4(fd, NULL, NULL, flags);
}
