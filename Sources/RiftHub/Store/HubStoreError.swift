import RiftStore

/// A failure of an administrative or storage operation on the hub's database, worded for the person
/// running the command.
public struct HubStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for programs and exit codes.
    public enum Kind: Sendable, Hashable {
        /// The named network does not exist.
        case unknownNetwork
        /// A network with that name exists already.
        case duplicateNetwork
        /// No token with that id in the network.
        case unknownToken
        /// No peer with that key in the network.
        case unknownPeer
        /// An argument is malformed or out of range.
        case invalidInput
        /// SQLite failed (the reason says how).
        case storage
    }

    /// What kind of failure.
    public var kind: Kind
    /// What went wrong, for people.
    public var reason: String
    /// SQLite's extended result code for `.storage` failures.
    public var code: Int32?

    /// Creates an error.
    public init(_ kind: Kind, _ reason: String, code: Int32? = nil) {
        self.kind = kind
        self.reason = reason
        self.code = code
    }

    init(_ error: SQLiteError) {
        self.init(.storage, error.reason, code: error.code)
    }

    public var description: String { reason }
}
