#ifndef CRIFT_WEBSOCKETS_SHIM_H
#define CRIFT_WEBSOCKETS_SHIM_H
/* libwebsockets, imported only by RiftWebSocket. */
#include <libwebsockets.h>

/* LWS_PRE is a macro: the headroom lws needs before every payload it writes. */
static inline size_t CRiftWebSockets_pre(void) { return LWS_PRE; }
#endif
