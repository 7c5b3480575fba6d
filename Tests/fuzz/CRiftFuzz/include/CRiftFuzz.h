#ifndef CRIFTFUZZ_H
#define CRIFTFUZZ_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (FuzzerDriver.cpp), for programs that have their own `main`: SwiftPM gives every executable
/// target one, so libFuzzer's `main` is never linked and each fuzz target calls this from `main.swift` instead.
/// Returns the process exit status (non-zero after a crash).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
