#include "CRiftTSan.h"

/* SwiftPM compiles C targets with -fsanitize=thread when it builds with --sanitize=thread, so the check below
 * selects the annotated version exactly in the TSan build. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CRIFT_TSAN_ENABLED 1
#endif
#endif

#ifdef CRIFT_TSAN_ENABLED
/* Declared by the ThreadSanitizer runtime (compiler-rt tsan_interface.h), which every -fsanitize=thread link has. */
void __tsan_acquire(void *address);
void __tsan_release(void *address);

void CRiftTSan_acquire(uintptr_t address) { __tsan_acquire((void *)address); }
void CRiftTSan_release(uintptr_t address) { __tsan_release((void *)address); }
#else
void CRiftTSan_acquire(uintptr_t address) { (void)address; }
void CRiftTSan_release(uintptr_t address) { (void)address; }
#endif
