/// Sizes and rates that every implementation enforces. `PROTOCOL.md` § Limits states the same numbers.
public enum Limits {
    /// The largest WebSocket text frame (and reassembled message) accepted, in bytes.
    public static let maximumFrameBytes = 65_536
    /// The longest network name.
    public static let maximumNetworkNameLength = 63
    /// The longest peer name, in Unicode scalars.
    public static let maximumPeerNameLength = 63
    /// The longest client-chosen message `id`.
    public static let maximumMessageIDLength = 64
    /// The largest sealed box (ciphertext with its MAC), in bytes before base64.
    public static let maximumSealedBytes = 32_768
    /// The most candidates one offer or answer may carry.
    public static let maximumCandidatesPerDescription = 64
    /// The longest candidate line, in bytes.
    public static let maximumCandidateLength = 512
    /// Messages a connection may send per second, sustained.
    public static let messagesPerSecond = 100
    /// Messages a connection may send at once before the sustained rate applies.
    public static let messageBurst = 400
}
