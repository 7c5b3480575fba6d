#include "CRiftFrameGuard.h"
#include "CRiftFrameGuardTable.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Indexed by descriptor. Allocated once; calloc's pages stay untouched (not resident) until a descriptor is watched. */
static CRiftFrameGuard_slot *_Atomic slots;
static _Atomic int slot_count;

/* Connections with a report not yet taken: a list through the slots (`next_reported`, descriptor + 1, 0 ends it),
 * newest first. */
static pthread_mutex_t reports_lock = PTHREAD_MUTEX_INITIALIZER;
static int reports_head;
static _Atomic int reports_waiting;

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
    slot->control_frames_reported = 0;
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

/* Whether the slot has something to report: an unmasked frame, or a step of control frames. */
static int has_report(const CRiftFrameGuard_slot *slot) {
    return slot->stream.saw_unmasked_frame ||
           slot->stream.control_frames - slot->control_frames_reported >= CRIFT_FRAME_GUARD_CONTROL_FRAME_STEP;
}

void CRiftFrameGuard_observe(CRiftFrameGuard_slot *slot, int descriptor, const void *bytes, size_t count) {
    if (slot->stream.saw_unmasked_frame) return;
    CRiftFrameParser_feed(&slot->stream, bytes, count);
    if (slot->queued || !has_report(slot)) return;
    pthread_mutex_lock(&reports_lock);
    slot->queued = 1;
    slot->next_reported = reports_head;
    reports_head = descriptor + 1;
    atomic_fetch_add_explicit(&reports_waiting, 1, memory_order_release);
    pthread_mutex_unlock(&reports_lock);
}

int CRiftFrameGuard_next_report(CRiftFrameGuard_report *report) {
    if (atomic_load_explicit(&reports_waiting, memory_order_acquire) == 0) return 0;
    int found = 0;
    pthread_mutex_lock(&reports_lock);
    while (!found && reports_head != 0) {
        CRiftFrameGuard_slot *slot = CRiftFrameGuard_slot_of(reports_head - 1);
        reports_head = slot->next_reported;
        slot->queued = 0;
        slot->next_reported = 0;
        atomic_fetch_sub_explicit(&reports_waiting, 1, memory_order_relaxed);
        /* Forgotten (or watched anew) since: nothing to report. */
        if (slot->connection == 0 || !has_report(slot)) continue;
        report->connection = slot->connection;
        report->control_frames = slot->stream.control_frames - slot->control_frames_reported;
        report->unmasked = slot->stream.saw_unmasked_frame;
        slot->control_frames_reported = slot->stream.control_frames;
        found = 1;
    }
    pthread_mutex_unlock(&reports_lock);
    return found;
}
