/// The peer's datagrams that arrived before the session had a receive handler, kept (bounded) for the first one.
///
/// The two ICE agents select their pair a moment apart: the controlling side as its nominating check succeeds, the
/// controlled side as that check (or its own triggered check) reaches it. The controlling side's WireGuard sends its
/// first handshake initiation at once, and it often arrives before the controlled side has set up its data path
/// (the receive handler is set by the agent's own thread after the selection event, and a hand-over installs its
/// rules first). Dropped, that initiation cost the tunnel the controlled side's deferred keepalive (PROTOCOL.md §9.5)
/// before its first handshake, on every relayed and handed-over connect in the NAT lab. Held, it reaches WireGuard
/// when the handler is set. Only the first few datagrams are held: a peer has no reason to send more before a pair
/// is selected, and anything it sends later is a retransmission WireGuard makes itself.
struct EarlyDatagrams: Sendable {
    /// The most datagrams held.
    static let capacity = 8
    /// The largest datagram held (larger ones, which no first handshake sends, are dropped).
    static let largest = 2_048

    private var held: [[UInt8]] = []
    /// Datagrams dropped because the queue was full or they were too large.
    private(set) var dropped = 0

    /// Keeps a copy of `bytes` if there is room.
    mutating func hold(_ bytes: UnsafeRawBufferPointer) {
        guard held.count < Self.capacity, bytes.count <= Self.largest else {
            dropped += 1
            return
        }
        held.append(Array(bytes))
    }

    /// The datagrams held, oldest first, emptying the queue.
    mutating func take() -> [[UInt8]] {
        defer { held = [] }
        return held
    }

    /// Forgets what is held (a new ICE generation: its predecessor's datagrams are not this one's).
    mutating func discard() {
        held = []
        dropped = 0
    }

    /// The number of datagrams held.
    var count: Int { held.count }
}
