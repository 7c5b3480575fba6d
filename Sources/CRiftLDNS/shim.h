#ifndef CRIFT_LDNS_SHIM_H
#define CRIFT_LDNS_SHIM_H
/* libldns (NLnet Labs), imported only by RiftDNS's DNSWire.swift: the DNS wire format of the agent's resolver, parsed
 * and written by a well-kept library instead of by hand. Nothing to shim: the API is plain functions. */
/* ldns/common.h falls back to `#define bool signed char` unless stdbool.h came first; Debian builds the library with C99
 * `_Bool`, so include it first: the header then matches the library, and Swift sees `bool` as `Bool`. */
#include <stdbool.h>
#include <ldns/ldns.h>
#endif
