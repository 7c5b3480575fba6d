/* Larger UDP socket buffers for coturn releases before 4.8.0, which hard-code 64 KiB for every relay socket
 * (docs/self-hosting.md, "TURN": bulk traffic towards the agent that owns a relay overflows it).
 *
 * Preloaded into turnserver (LD_PRELOAD), it turns a setsockopt(SO_RCVBUF or SO_SNDBUF) asking for less than
 * RIFTGATE_SOCKET_BUFFER bytes into one asking for that size: first SO_RCVBUFFORCE/SO_SNDBUFFORCE (which exceed
 * net.core.rmem_max/wmem_max but need CAP_NET_ADMIN, so only when coturn runs as root), then the plain option, which
 * the kernel caps at net.core.rmem_max/wmem_max. Nothing else is changed; without the variable it does nothing.
 *
 *   cc -shared -fPIC -O2 -o /usr/local/lib/riftgate/coturn-socket-buffers.so socket-buffers.c -ldl
 *
 * coturn 4.8.0 and later have `sock-buf-size` in turnserver.conf instead; deploy/provision-hub.sh sets that. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

typedef int (*setsockopt_function)(int, int, int, const void *, socklen_t);

int setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
    static setsockopt_function real;
    if (real == NULL) real = (setsockopt_function)dlsym(RTLD_NEXT, "setsockopt");
    if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF) && value != NULL && length == sizeof(int)) {
        const char *text = getenv("RIFTGATE_SOCKET_BUFFER");
        int wanted = text != NULL ? atoi(text) : 0;
        if (wanted > *(const int *)value) {
            int forced = name == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
            if (real(fd, level, forced, &wanted, sizeof(wanted)) == 0) return 0;
            if (real(fd, level, name, &wanted, sizeof(wanted)) == 0) return 0;
        }
    }
    return real(fd, level, name, value, length);
}
