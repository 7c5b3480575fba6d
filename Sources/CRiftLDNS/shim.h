#ifndef CRIFT_LDNS_SHIM_H
#define CRIFT_LDNS_SHIM_H
/* libldns (NLnet Labs), imported only by RiftDNS's DNSWire.swift: the DNS wire format of the agent's resolver, parsed
 * and written by a well-kept library instead of by hand. Nothing to shim: the API is plain functions. */
#include <ldns/ldns.h>
#endif
