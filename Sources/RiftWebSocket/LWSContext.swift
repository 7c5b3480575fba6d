internal import CRiftWebSockets

/// Owns one `lws_context`: created in `init`, destroyed by `destroy()` (or `deinit`).
///
/// The context's user pointer is `owner`, retained once here and released once after the
/// context is destroyed, so the owner outlives every callback lws makes. The creating thread
/// hands the context to exactly one service thread; from then on only that thread touches it
/// (others may only pass `pointer` to `lws_cancel_service`).
final class LWSContext: @unchecked Sendable {
    /// The `lws_context *`.
    let pointer: OpaquePointer
    /// C memory the context points into, freed after the context.
    private let memory: CAllocations
    /// The libev loop lws runs on (`LWS_SERVER_OPTION_LIBEV` with a foreign loop), or nil for lws' own `poll()`
    /// loop; run by the service thread, destroyed after the context.
    let eventLoop: EVLoop?
    private var retainedOwner: Unmanaged<AnyObject>?

    /// Creates a context from `info`, which `configure` fills using `memory` for anything lws
    /// keeps pointing at; with `eventLoop` lws runs on that libev loop instead of its own `poll()` loop.
    /// Throws with the error lines lws logged while failing (port in use, unreadable certificate,
    /// lws' libev plugin missing …), prefixed by `failure`.
    init(
        owner: AnyObject, failure: String, eventLoop: EVLoop? = nil,
        configure: (inout lws_context_creation_info, CAllocations) -> Void
    ) throws(WebSocketError) {
        let memory = CAllocations()
        var info = lws_context_creation_info()
        info.gid = -1
        info.uid = -1
        configure(&info, memory)
        if let eventLoop {
            // One service thread, so one loop; lws reads `foreign_loops[0]` while creating the context only.
            let loops = memory.zeroed(UnsafeMutableRawPointer?.self, count: 1)
            loops[0] = UnsafeMutableRawPointer(eventLoop.pointer)
            info.foreign_loops = loops
            info.options |= UInt64(LWS_SERVER_OPTION_LIBEV)
        }
        let owner = Unmanaged.passRetained(owner)
        info.user = owner.toOpaque()
        let (created, errorLines) = LibraryLog.capturingErrors { lws_create_context(&info) }
        guard let created else {
            owner.release()
            let explanation = LibraryLogExplanation.contextFailure(errorLines)
            throw WebSocketError("\(failure): \(explanation.text)", code: explanation.code)
        }
        self.pointer = created
        self.memory = memory
        self.eventLoop = eventLoop
        self.retainedOwner = owner
    }

    /// The port the context's default vhost listens on (0 for a client-only context).
    var listeningPort: UInt16 {
        guard let vhost = lws_get_vhost_by_name(pointer, "default") else { return 0 }
        let port = lws_get_vhost_listen_port(vhost)
        return UInt16(clamping: max(port, 0))
    }

    /// Destroys the context (closing every connection, with their callbacks) and releases the
    /// owner. Idempotent. Must run on the service thread, or after it ended.
    func destroy() {
        guard let owner = retainedOwner else { return }
        retainedOwner = nil
        lws_context_destroy(pointer)
        owner.release()
    }

    deinit {
        destroy()
        withExtendedLifetime(memory) {}
        withExtendedLifetime(eventLoop) {}
    }
}
