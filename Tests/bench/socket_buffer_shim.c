/* LD_PRELOAD shim for a diagnostic (Tests/bench/relay_drops.py --relay-buffer): setsockopt(SO_RCVBUF/SO_SNDBUF) asking
 * for less than RIFTLAB_SOCKET_BUFFER bytes gets that size instead (SO_*BUFFORCE, as root). It lets the lab check what
 * coturn 4.6.1's hard-coded 64 KiB relay socket buffers cost, which no turnserver option of that version changes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
    static int (*real)(int, int, int, const void *, socklen_t);
    if (real == NULL) real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
    if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF) && length == sizeof(int)) {
        const char *text = getenv("RIFTLAB_SOCKET_BUFFER");
        int wanted = text != NULL ? atoi(text) : 0;
        if (wanted > *(const int *)value) {
            int forced = name == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
            if (real(fd, level, forced, &wanted, sizeof(wanted)) == 0) return 0;
        }
    }
    return real(fd, level, name, value, length);
}
