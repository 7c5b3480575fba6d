#ifndef CRIFT_FRAME_GUARD_H
#define CRIFT_FRAME_GUARD_H

#include <stdint.h>

/* The hub's check that clients mask their frames (RFC 6455 §5.1), which Debian 12's libwebsockets 4.1 does not make,
 * and its count of the control frames they send, which libwebsockets answers without telling the hub.
 *
 * This target defines `recv` and `SSL_read` (CRiftFrameGuardCalls.c): linked into the `riftgate-hub` executable only,
 * those definitions come before libc's and libssl's when libwebsockets calls them. Each call goes to the real function;
 * for a socket the hub watches, the bytes it returned are fed to a CRiftFrameParser stream, on the thread that watches
 * it. Other sockets (libpq, NATS, the admin listener) pass through after one table look-up.
 *
 * Threads: watch, forget, saw_unmasked_frame and next_report are called on the WebSocket server's service thread,
 * the only thread that reads the watched sockets. */

/* Sizes the table for the process' open-file hard limit (at most 2^20 descriptors) and resolves the real functions.
 * Call once, before the server starts. Returns 0, or -errno when the table cannot be allocated. */
int CRiftFrameGuard_install(void);

/* Starts following a socket just accepted (nothing read yet): `connection` identifies it (non-zero) and is what
 * next_report names; `tls` says whether it is read through SSL_read (1) or recv (0). Returns 0, or -EBADF when the
 * descriptor is beyond the table (or install was not called). */
int CRiftFrameGuard_watch(int descriptor, uintptr_t connection, int tls);

/* Stops following the socket, if `connection` is still the one watched on it (a descriptor can be reused). */
void CRiftFrameGuard_forget(int descriptor, uintptr_t connection);

/* 1 if the watched socket's client sent an unmasked frame, else 0. */
int CRiftFrameGuard_saw_unmasked_frame(int descriptor);

/* A connection's control frames are reported in steps of this many: a flood of pings is seen within that many frames,
 * and an honest client (a ping every few seconds at most) causes a report about once a minute or less. */
#define CRIFT_FRAME_GUARD_CONTROL_FRAME_STEP 64

/* What a watched connection did that the server must act on. */
typedef struct CRiftFrameGuard_report {
    /* The `connection` given to CRiftFrameGuard_watch. */
    uintptr_t connection;
    /* Control frames its client sent since the last report on it. */
    uint32_t control_frames;
    /* 1 when its client sent an unmasked frame. */
    uint8_t unmasked;
} CRiftFrameGuard_report;

/* Fills `report` with the next connection that sent an unmasked frame or another step of control frames since the
 * last call (each connection once per call, however much it sent meanwhile) and returns 1, or returns 0 when there is
 * none. Cheap when there is none: meant to be called after every pass of the service loop. */
int CRiftFrameGuard_next_report(CRiftFrameGuard_report *report);

#endif
