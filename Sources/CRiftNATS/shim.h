#ifndef CRIFT_NATS_SHIM_H
#define CRIFT_NATS_SHIM_H
/* libnats (the NATS C client, Debian's libnats-dev), imported only by RiftCluster. Nothing to shim: every call
 * RiftCluster makes is a plain function Swift imports as is. */
#include <nats/nats.h>
#endif
