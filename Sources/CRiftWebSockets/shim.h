#ifndef CRIFT_WEBSOCKETS_SHIM_H
#define CRIFT_WEBSOCKETS_SHIM_H
/* libwebsockets, imported only by RiftWebSocket. */
#include <libwebsockets.h>

/* LWS_PRE is a macro: the headroom lws needs before every payload it writes. */
static inline size_t CRiftWebSockets_pre(void) { return LWS_PRE; }

/*
 * An lws timer (a sorted-usec-list entry) plus the object it belongs to.
 * lws calls a timer back with only the entry's address, so the owner travels
 * next to it; lws_container_of (a macro, which Swift cannot call) finds it.
 */
typedef struct CRiftWebSockets_timer {
    lws_sorted_usec_list_t sul;
    void *owner;
} CRiftWebSockets_timer;

/* The lws entry inside a timer, to hand to lws_sul_schedule / lws_sul_cancel. */
static inline lws_sorted_usec_list_t *CRiftWebSockets_timer_entry(CRiftWebSockets_timer *timer) {
    return &timer->sul;
}

/* The owner stored next to the entry lws called back with. */
static inline void *CRiftWebSockets_timer_owner(lws_sorted_usec_list_t *entry) {
    return lws_container_of(entry, CRiftWebSockets_timer, sul)->owner;
}
#endif
