#ifndef CRIFT_LINUX_H
#define CRIFT_LINUX_H
/* Linux system calls the agent's data path uses that Swift's Glibc module does not expose:
 * epoll (not in the Glibc module map) and recvmmsg/sendmmsg (their struct mmsghdr needs _GNU_SOURCE,
 * which Swift's Glibc is not built with). Imported only by RiftAgent's DataPath files. */
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
/* sendmmsg(2): send up to vlen datagrams in one call. */
int CRiftLinux_sendmmsg(int fd, CRiftLinux_mmsghdr *messages, unsigned int vlen, int flags);
#endif
