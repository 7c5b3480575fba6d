/// Follows the bytes a server's connections deliver and tells which clients sent an unmasked frame, which RFC 6455 §5.1
/// says a server must answer by closing the connection with 1002.
///
/// libwebsockets 4.1 (Debian 12) reads the mask bit and never checks it, and hands the payload to its callbacks already
/// unmasked, so the server cannot see the bit itself: a detector watches the socket's reads beside the library (the
/// hub's is `CRiftFrameGuard`, linked into the `riftgate-hub` executable only). Without one
/// (`WebSocketServer.Configuration.unmaskedFrameDetector` nil) unmasked frames are accepted.
///
/// Every method is called on the server's service thread. A connection is named by the descriptor of its socket and a
/// non-zero token the server chooses (descriptor numbers are reused once a socket is closed).
public protocol UnmaskedFrameDetector: AnyObject, Sendable {
    /// A client connection was just accepted, before anything was read from it; `tls` tells whether it is read through
    /// TLS. Returns false when the detector cannot follow this socket (the server then refuses the connection).
    func watch(descriptor: Int32, token: UInt, tls: Bool) -> Bool

    /// The connection is being closed: stop following it (ignored if the descriptor was watched anew since).
    func forget(descriptor: Int32, token: UInt)

    /// Whether the client of this watched socket sent an unmasked frame.
    func sawUnmaskedFrame(descriptor: Int32) -> Bool

    /// The token of the next connection whose client sent an unmasked frame since the last call (each connection once),
    /// or nil. Called after every pass of the service loop: cheap when there is none.
    func nextOffender() -> UInt?
}
