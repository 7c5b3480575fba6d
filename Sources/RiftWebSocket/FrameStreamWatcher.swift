/// Follows the bytes a server's connections deliver, beside libwebsockets, and reports what the server must act on but
/// cannot see itself:
///
/// - a client that sent an unmasked frame, which RFC 6455 §5.1 says a server must answer by closing the connection
///   with 1002. libwebsockets 4.1 (Debian 12) reads the mask bit and never checks it, and hands the payload to its
///   callbacks already unmasked;
/// - the control frames (ping, pong, close) a client sends, which libwebsockets answers without a callback: the server
///   charges them to the connection's frame budget like data frames, so a flood of pings is closed as any other.
///
/// The hub's watcher is `CRiftFrameGuard`, linked into the `riftgate-hub` executable only. Without one
/// (`WebSocketServer.Configuration.frameStreamWatcher` nil) unmasked frames are accepted and control frames not
/// counted.
///
/// Every method is called on the server's service thread. A connection is named by the descriptor of its socket and a
/// non-zero token the server chooses (descriptor numbers are reused once a socket is closed).
public protocol FrameStreamWatcher: AnyObject, Sendable {
    /// A client connection was just accepted, before anything was read from it; `tls` tells whether it is read through
    /// TLS. Returns false when the watcher cannot follow this socket (the server then refuses the connection).
    func watch(descriptor: Int32, token: UInt, tls: Bool) -> Bool

    /// The connection is being closed: stop following it (ignored if the descriptor was watched anew since).
    func forget(descriptor: Int32, token: UInt)

    /// Whether the client of this watched socket sent an unmasked frame.
    func sawUnmaskedFrame(descriptor: Int32) -> Bool

    /// The next connection with something to report since the last call (an unmasked frame, or control frames; each
    /// connection at most once per call), or nil. Called after every pass of the service loop: cheap when there is
    /// none.
    func nextReport() -> FrameStreamReport?
}

/// What a `FrameStreamWatcher` saw a client connection send.
public struct FrameStreamReport: Sendable, Equatable {
    /// The token the connection was watched with.
    public var token: UInt
    /// Whether its client sent an unmasked frame.
    public var unmasked: Bool
    /// The control frames its client sent since the last report on it.
    public var controlFrames: Int

    /// Creates a report.
    public init(token: UInt, unmasked: Bool, controlFrames: Int) {
        self.token = token
        self.unmasked = unmasked
        self.controlFrames = controlFrames
    }
}
