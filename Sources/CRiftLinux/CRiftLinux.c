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
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>

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

#include <sys/mman.h>

int CRiftLinux_release_file_pages(unsigned long start, unsigned long length) {
    void *address = (void *)start;
    if (madvise(address, length, MADV_RANDOM) != 0) return errno;
    if (madvise(address, length, MADV_DONTNEED) != 0) return errno;
    return 0;
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

/* Forces one buffer to `bytes` unless it is already as large (the kernel reports twice the size set). */
static int raise_buffer(int fd, int plain, int forced, int bytes) {
    int current = 0;
    socklen_t length = sizeof(current);
    if (getsockopt(fd, SOL_SOCKET, plain, &current, &length) == 0 && current / 2 >= bytes) return 0;
    return setsockopt(fd, SOL_SOCKET, forced, &bytes, sizeof(bytes));
}

/* The process's descriptor numbers from /proc/PID/fd; duplicates each socket with pidfd_getfd and sets the buffers of
 * the UDP ones (getsockname's family tells IPv4/IPv6 from netlink and unix sockets). */
int CRiftLinux_force_udp_buffers_of_process(int pid, int bytes) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -1;
    DIR *directory = opendir(path);
    if (directory == NULL) {
        int saved = errno;
        close(pidfd);
        errno = saved;
        return -1;
    }
    int raised = 0;
    int failure = 0;
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        char *end = NULL;
        long number = strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0') continue;
        char link[64];
        char target[64];
        snprintf(link, sizeof(link), "%s/%ld", path, number);
        ssize_t length = readlink(link, target, sizeof(target) - 1);
        if (length <= 0) continue;
        target[length] = '\0';
        if (strncmp(target, "socket:", 7) != 0) continue;
        int copy = (int)syscall(SYS_pidfd_getfd, pidfd, (int)number, 0);
        if (copy < 0) {
            failure = errno;
            continue;
        }
        int type = 0;
        socklen_t typeLength = sizeof(type);
        struct sockaddr_storage address;
        socklen_t addressLength = sizeof(address);
        if (getsockopt(copy, SOL_SOCKET, SO_TYPE, &type, &typeLength) == 0 && type == SOCK_DGRAM
            && getsockname(copy, (struct sockaddr *)&address, &addressLength) == 0
            && (address.ss_family == AF_INET || address.ss_family == AF_INET6)) {
            if (raise_buffer(copy, SO_RCVBUF, SO_RCVBUFFORCE, bytes) == 0
                && raise_buffer(copy, SO_SNDBUF, SO_SNDBUFFORCE, bytes) == 0) {
                raised += 1;
            } else {
                failure = errno;
            }
        }
        close(copy);
    }
    closedir(directory);
    close(pidfd);
    if (raised == 0 && failure != 0) {
        errno = failure;
        return -1;
    }
    return raised;
}

int CRiftLinux_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
