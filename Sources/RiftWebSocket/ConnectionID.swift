import Synchronization

/// Identifies one accepted WebSocket connection of a `WebSocketServer`.
///
/// Numbers come from one process-wide counter, so an identifier is never reused while the
/// process runs, even across servers: a late `send` to a closed connection can never reach a
/// newer one.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// The process-unique number of the connection (starts at 1).
    public let rawValue: UInt64

    /// Wraps a number previously read from `rawValue`.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// "ws#42": safe to log.
    public var description: String { "ws#\(rawValue)" }

    /// Takes the next unused identifier.
    static func next() -> ConnectionID {
        ConnectionID(rawValue: lastConnectionNumber.add(1, ordering: .relaxed).newValue)
    }
}

/// The number of the most recently accepted connection in this process.
private let lastConnectionNumber = Atomic<UInt64>(0)
