#ifndef CRIFT_WEBSOCKETS_SHIM_H
#define CRIFT_WEBSOCKETS_SHIM_H
/* libwebsockets, imported only by RiftWebSocket. */
#include <libwebsockets.h>
#include <openssl/ssl.h>

/*
 * A TLS listener issues no session tickets (TLS 1.3 NewSessionTicket): agents never resume a session, so tickets
 * only cost bytes and work per join, and a post-handshake message is what a client that reads and writes one TLS
 * connection from two threads trips over (Python's websockets sync client lost its upgrade request that way).
 * `ssl_ctx` is the vhost's SSL_CTX, as lws passes it to LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS.
 */
static inline int CRiftWebSockets_issue_no_session_tickets(void *ssl_ctx) {
    return SSL_CTX_set_num_tickets((SSL_CTX *)ssl_ctx, 0);
}

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
