internal import CRiftEv

/// Owns one libev event loop (`struct ev_loop *`), on the epoll backend where the kernel has it.
///
/// The WebSocket server hands it to libwebsockets as a foreign loop (`LWS_SERVER_OPTION_LIBEV`, lws' `evlib_ev`
/// plugin) and runs it itself with `runOnce()`, on its service thread only. With epoll a wake-up costs in proportion
/// to the descriptors that are ready; lws' default `poll()` loop scans every open descriptor each time. Destroyed by
/// `deinit`, which must happen after the lws context that uses it was destroyed (`LWSContext` keeps it until then).
final class EVLoop {
    /// The `struct ev_loop *`.
    let pointer: OpaquePointer

    /// A new loop on epoll, or on libev's best available backend when epoll cannot be had; nil when libev cannot
    /// create a loop at all (out of memory or descriptors).
    init?() {
        guard let loop = ev_loop_new(UInt32(EVBACKEND_EPOLL)) ?? ev_loop_new(0) else { return nil }
        pointer = loop
    }

    /// The name of the backend libev picked, for logs and tests ("epoll" here).
    var backendName: String {
        switch ev_backend(pointer) {
        case UInt32(EVBACKEND_EPOLL): "epoll"
        case UInt32(EVBACKEND_POLL): "poll"
        case UInt32(EVBACKEND_SELECT): "select"
        default: "other"
        }
    }

    /// Waits for at least one event (I/O, a timer, a wake-up) and runs the callbacks of everything ready.
    func runOnce() {
        _ = ev_run(pointer, Int32(EVRUN_ONCE))
    }

    /// Runs the callbacks of everything ready now, without waiting.
    func runReady() {
        _ = ev_run(pointer, Int32(EVRUN_NOWAIT))
    }

    deinit {
        ev_loop_destroy(pointer)
    }
}
