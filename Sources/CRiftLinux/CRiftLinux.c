#define _GNU_SOURCE
#include "CRiftLinux.h"
#include <stddef.h>

_Static_assert(sizeof(CRiftLinux_mmsghdr) == sizeof(struct mmsghdr), "CRiftLinux_mmsghdr size differs from mmsghdr");
_Static_assert(offsetof(CRiftLinux_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "msg_len offset differs");

int CRiftLinux_recvmmsg(int fd, CRiftLinux_mmsghdr *messages, unsigned int vlen, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, vlen, flags, NULL);
}


int CRiftLinux_peer_uid(int fd, unsigned int *uid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    return 0;
}
