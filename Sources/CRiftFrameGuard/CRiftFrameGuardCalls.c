/* The interposed calls. This executable's `recv` and `SSL_read` come first in the dynamic linker's search order, so
 * libwebsockets' calls (through its PLT) land here; each goes on to the real function, found with
 * dlsym(RTLD_NEXT), and only what the socket actually delivered is observed: no peek (MSG_PEEK, as lws' "is this TLS?"
 * check on a TLS port), no error, no end of file. errno is the real call's.
 *
 * Under AddressSanitizer or ThreadSanitizer the runtime's own `recv` interceptor is a weak definition in the same
 * executable; these strong ones replace it, so the sanitizer no longer checks the buffers of `recv` calls (lws' and
 * libpq's) in the hub: the price of checking masks with lws 4.1. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "CRiftFrameGuardTable.h"

typedef struct ssl_st SSL;
int SSL_get_fd(const SSL *ssl);

typedef ssize_t (*recv_function)(int, void *, size_t, int);
typedef int (*ssl_read_function)(SSL *, void *, int);

static _Atomic(recv_function) real_recv;
static _Atomic(ssl_read_function) real_ssl_read;

void CRiftFrameGuard_resolve_real_functions(void) {
    if (atomic_load(&real_recv) == NULL) atomic_store(&real_recv, (recv_function)dlsym(RTLD_NEXT, "recv"));
    if (atomic_load(&real_ssl_read) == NULL) atomic_store(&real_ssl_read, (ssl_read_function)dlsym(RTLD_NEXT, "SSL_read"));
}

/* Feeds what a watched socket delivered to its parser, keeping the real call's errno. */
static void observe(int descriptor, int tls, const void *bytes, size_t count) {
    CRiftFrameGuard_slot *slot = CRiftFrameGuard_watched_slot(descriptor, tls);
    if (slot == NULL) return;
    int saved = errno;
    CRiftFrameGuard_observe(slot, descriptor, bytes, count);
    errno = saved;
}

ssize_t recv(int descriptor, void *buffer, size_t length, int flags) {
    recv_function function = atomic_load_explicit(&real_recv, memory_order_relaxed);
    if (function == NULL) {
        CRiftFrameGuard_resolve_real_functions();
        function = atomic_load(&real_recv);
        if (function == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }
    ssize_t count = function(descriptor, buffer, length, flags);
    if (count > 0 && !(flags & MSG_PEEK)) observe(descriptor, 0, buffer, (size_t)count);
    return count;
}

int SSL_read(SSL *ssl, void *buffer, int length) {
    ssl_read_function function = atomic_load_explicit(&real_ssl_read, memory_order_relaxed);
    if (function == NULL) {
        CRiftFrameGuard_resolve_real_functions();
        function = atomic_load(&real_ssl_read);
        if (function == NULL) return -1;
    }
    int count = function(ssl, buffer, length);
    if (count > 0) observe(SSL_get_fd(ssl), 1, buffer, (size_t)count);
    return count;
}
