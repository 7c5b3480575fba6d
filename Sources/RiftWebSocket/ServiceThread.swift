import RiftSupport

/// The thread that runs a libwebsockets service loop until its body returns: a `JoinableThread` (`lws_service`
/// blocks in `poll`/`epoll_wait`, which must never happen on Swift's cooperative pool).
typealias ServiceThread = JoinableThread

extension JoinableThread {
    /// Starts a service thread named `name`; a refusal by the system becomes a `WebSocketError`.
    static func spawnService(name: String, _ body: @escaping @Sendable () -> Void) throws(WebSocketError) -> JoinableThread {
        do {
            return try spawn(name: name, body)
        } catch {
            throw WebSocketError("cannot start the \(name) thread: \(error)", code: error.code)
        }
    }
}
