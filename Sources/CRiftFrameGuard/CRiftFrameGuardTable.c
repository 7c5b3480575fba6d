#include "CRiftFrameGuard.h"
#include "CRiftFrameGuardTable.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Indexed by descriptor. Allocated once; calloc's pages stay untouched (not resident) until a descriptor is watched. */
static CRiftFrameGuard_slot *_Atomic slots;
static _Atomic int slot_count;

/* Offenders not yet taken: a list through the slots (`next_offender`, descriptor + 1, 0 ends it), newest first. */
static pthread_mutex_t offenders_lock = PTHREAD_MUTEX_INITIALIZER;
static int offenders_head;
static _Atomic int offenders_waiting;

/* More descriptors than this are not followed (the kernel's default nr_open is 2^20). */
enum { MAXIMUM_SLOTS = 1 << 20 };

int CRiftFrameGuard_install(void) {
    CRiftFrameGuard_resolve_real_functions();
    if (atomic_load(&slots) != NULL) return 0;
    struct rlimit limit;
    rlim_t count = MAXIMUM_SLOTS;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_max != RLIM_INFINITY && limit.rlim_max < count) {
        count = limit.rlim_max;
    }
    CRiftFrameGuard_slot *table = calloc((size_t)count, sizeof *table);
    if (table == NULL) return -ENOMEM;
    atomic_store(&slot_count, (int)count);
    atomic_store(&slots, table);
    return 0;
}

CRiftFrameGuard_slot *CRiftFrameGuard_slot_of(int descriptor) {
    CRiftFrameGuard_slot *table = atomic_load_explicit(&slots, memory_order_acquire);
    if (table == NULL || descriptor < 0 || descriptor >= atomic_load_explicit(&slot_count, memory_order_relaxed)) {
        return NULL;
    }
    return &table[descriptor];
}

CRiftFrameGuard_slot *CRiftFrameGuard_watched_slot(int descriptor, int tls) {
    CRiftFrameGuard_slot *slot = CRiftFrameGuard_slot_of(descriptor);
    if (slot == NULL) return NULL;
    uintptr_t reader = atomic_load_explicit(&slot->reader, memory_order_relaxed);
    if (reader == 0 || reader != (uintptr_t)pthread_self() || slot->tls != tls) return NULL;
    return slot;
}

int CRiftFrameGuard_watch(int descriptor, uintptr_t connection, int tls) {
    CRiftFrameGuard_slot *slot = CRiftFrameGuard_slot_of(descriptor);
    if (slot == NULL || connection == 0) return -EBADF;
    CRiftFrameParser_reset(&slot->stream);
    slot->connection = connection;
    slot->tls = tls != 0;
    atomic_store_explicit(&slot->reader, (uintptr_t)pthread_self(), memory_order_relaxed);
    return 0;
}

void CRiftFrameGuard_forget(int descriptor, uintptr_t connection) {
    CRiftFrameGuard_slot *slot = CRiftFrameGuard_slot_of(descriptor);
    if (slot == NULL || slot->connection != connection) return;
    atomic_store_explicit(&slot->reader, 0, memory_order_relaxed);
    slot->connection = 0;
}

int CRiftFrameGuard_saw_unmasked_frame(int descriptor) {
    CRiftFrameGuard_slot *slot = CRiftFrameGuard_slot_of(descriptor);
    return slot != NULL && slot->connection != 0 && slot->stream.saw_unmasked_frame;
}

void CRiftFrameGuard_observe(CRiftFrameGuard_slot *slot, int descriptor, const void *bytes, size_t count) {
    if (slot->stream.saw_unmasked_frame) return;
    if (!CRiftFrameParser_feed(&slot->stream, bytes, count) || slot->queued) return;
    pthread_mutex_lock(&offenders_lock);
    slot->queued = 1;
    slot->next_offender = offenders_head;
    offenders_head = descriptor + 1;
    atomic_fetch_add_explicit(&offenders_waiting, 1, memory_order_release);
    pthread_mutex_unlock(&offenders_lock);
}

uintptr_t CRiftFrameGuard_next_offender(void) {
    if (atomic_load_explicit(&offenders_waiting, memory_order_acquire) == 0) return 0;
    uintptr_t connection = 0;
    pthread_mutex_lock(&offenders_lock);
    while (connection == 0 && offenders_head != 0) {
        CRiftFrameGuard_slot *slot = CRiftFrameGuard_slot_of(offenders_head - 1);
        offenders_head = slot->next_offender;
        slot->queued = 0;
        slot->next_offender = 0;
        atomic_fetch_sub_explicit(&offenders_waiting, 1, memory_order_relaxed);
        /* Forgotten (or watched anew) since: nothing to close. */
        if (slot->connection != 0 && slot->stream.saw_unmasked_frame) connection = slot->connection;
    }
    pthread_mutex_unlock(&offenders_lock);
    return connection;
}
