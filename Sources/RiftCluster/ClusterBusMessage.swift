/// One message received from the cluster's bus: its subject and payload, copied out of libnats' buffer.
public struct ClusterBusMessage: Sendable, Hashable {
    /// The subject it was published on (`rift.home.presence`).
    public var subject: String
    /// The bytes as published.
    public var payload: [UInt8]

    /// A message with `subject` and `payload`.
    public init(subject: String, payload: [UInt8]) {
        self.subject = subject
        self.payload = payload
    }
}

/// A change in the bus's connection, reported to the handler given to `ClusterBus.connect` on libnats' callback thread.
public enum ClusterBusEvent: Sendable, Hashable {
    /// The connection to the server was lost; libnats is reconnecting (publishes are buffered meanwhile).
    case disconnected
    /// Connected again, to `server` (redacted URL); subscriptions were restored by libnats.
    case reconnected(server: String)
    /// The connection is closed for good (by `close()`); no event or message follows.
    case closed
}
