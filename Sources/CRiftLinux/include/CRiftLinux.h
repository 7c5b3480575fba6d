#ifndef CRIFT_LINUX_H
#define CRIFT_LINUX_H
/* Linux system calls the agent's data path uses that Swift's Glibc module does not expose:
 * epoll (not in the Glibc module map) and recvmmsg (its struct mmsghdr needs _GNU_SOURCE,
 * which Swift's Glibc is not built with), and SO_PEERCRED's struct ucred (same reason). Imported only by RiftAgent's
 * DataPath files and its control socket. */
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
/* The user id of the process at the other end of a Unix socket (SO_PEERCRED; struct ucred needs _GNU_SOURCE).
 * Returns 0 and sets *uid, or -1 with errno set. Used by the agent's control socket. */
int CRiftLinux_peer_uid(int fd, unsigned int *uid);
#endif
