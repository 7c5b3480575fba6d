#ifndef CRIFT_SODIUM_SHIM_H
#define CRIFT_SODIUM_SHIM_H
/* libsodium, imported only by RiftCrypto. Nothing to shim: the API is plain functions. */
#include <sodium.h>
#endif
