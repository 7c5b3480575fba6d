#ifndef CRIFT_EV_SHIM_H
#define CRIFT_EV_SHIM_H
/*
 * libev, imported only by RiftWebSocket: the WebSocket server runs libwebsockets on a libev loop
 * (lws' evlib_ev plugin) so that a wake-up costs O(ready descriptors) (epoll) instead of poll()'s
 * O(all descriptors). libev ships no pkg-config file, hence `link "ev"` in the module map.
 */
#include <ev.h>
#endif
