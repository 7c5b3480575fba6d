#ifndef CRIFT_TSAN_H
#define CRIFT_TSAN_H
/* ThreadSanitizer's annotation interface, for the one lock type of ours (RiftSupport's Locked). Swift's
 * Synchronization.Mutex waits with futex system calls that ThreadSanitizer does not intercept, so TSan sees no
 * happens-before edge between one holder of the lock and the next and reports every Mutex-protected access as a race
 * (Tests/sanitizers/MutexRepro.swift). Locked tells TSan about each acquisition and release with these two calls.
 *
 * In a build with -fsanitize=thread (make tsan-test) they call __tsan_acquire / __tsan_release on `address`; in every
 * other build they do nothing. `address` only names the synchronisation object (the Locked instance's identity); it is
 * never dereferenced. */
#include <stdint.h>

/* The calling thread has just taken the lock identified by `address`. */
void CRiftTSan_acquire(uintptr_t address);
/* The calling thread is about to release the lock identified by `address`. */
void CRiftTSan_release(uintptr_t address);

#endif
