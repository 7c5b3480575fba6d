#ifndef CRIFT_FRAME_GUARD_TABLE_H
#define CRIFT_FRAME_GUARD_TABLE_H

/* Internal to CRiftFrameGuard: the per-descriptor table the interposed calls feed. */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "CRiftFrameParser.h"

/* One descriptor's state while the hub watches it. */
typedef struct CRiftFrameGuard_slot {
    /* The thread that watches (and alone reads) the socket, as pthread_self(); 0 while not watched. The only field
     * other threads look at: their reads of a reused descriptor number are never parsed. */
    _Atomic uintptr_t reader;
    /* What CRiftFrameGuard_watch was given; 0 while not watched. */
    uintptr_t connection;
    CRiftFrameParser_stream stream;
    /* Read through SSL_read rather than recv. */
    uint8_t tls;
    /* In the list of connections with a report not yet taken, and the next one there (descriptor + 1, 0 ends it). */
    uint8_t queued;
    int next_reported;
    /* The stream's control-frame count when it was last reported. */
    uint32_t control_frames_reported;
} CRiftFrameGuard_slot;

/* The slot of a descriptor within the table, or NULL. */
CRiftFrameGuard_slot *CRiftFrameGuard_slot_of(int descriptor);

/* The slot if this thread watches the descriptor, read through `tls` (1: SSL_read, 0: recv); else NULL. */
CRiftFrameGuard_slot *CRiftFrameGuard_watched_slot(int descriptor, int tls);

/* Feeds bytes the socket delivered to its parser; queues a report for the connection at its first unmasked frame and
 * every CRIFT_FRAME_GUARD_CONTROL_FRAME_STEP control frames. */
void CRiftFrameGuard_observe(CRiftFrameGuard_slot *slot, int descriptor, const void *bytes, size_t count);

/* Looks up the real recv and SSL_read (the next definitions after this executable's). Idempotent. */
void CRiftFrameGuard_resolve_real_functions(void);

#endif
