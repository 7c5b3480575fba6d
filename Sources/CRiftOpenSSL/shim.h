#ifndef CRIFT_OPENSSL_SHIM_H
#define CRIFT_OPENSSL_SHIM_H
/* OpenSSL's libcrypto, imported only by RiftCrypto, for the one primitive libsodium lacks: HMAC-SHA1, which
 * TURN REST credentials (coturn's use-auth-secret) require. Nothing to shim: HMAC() and EVP_sha1() are plain
 * functions. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif
