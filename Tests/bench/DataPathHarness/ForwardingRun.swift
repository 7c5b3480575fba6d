@testable import RiftAgent
import Glibc

/// One run of the harness: numbered WireGuard-sized datagrams pushed through the agent's real `ForwardingSocket` and
/// `ForwardingLoop` into a fake ICE send, `burst` at a time, each burst waited for before the next is sent.
struct ForwardingRun {
    /// A WireGuard datagram at the agent's MTU of 1380: 1380 + 16 (transport header) + 16 (Poly1305 tag).
    static let datagramBytes = 1412

    /// What arrived, as the fake ICE send and the loop's own counters saw it.
    struct Outcome {
        var sent = 0
        var delivered = 0
        var outOfOrder = 0
        var packetsOut: UInt64 = 0
        var bytesOut: UInt64 = 0
        var dropsOut: UInt64 = 0
        /// Set when a burst was not forwarded in time (the run stops there).
        var timedOut = false
    }

    var packets = 2000
    var burst = 32
    var timeout = Duration.seconds(10)

    /// The load from the environment, for the callgrind runs: `RIFTGATE_FORWARDING_PACKETS`, `RIFTGATE_FORWARDING_BURST`,
    /// `RIFTGATE_FORWARDING_TIMEOUT` (seconds per burst). Nil when `RIFTGATE_FORWARDING_PACKETS` is not set.
    static func fromEnvironment() -> ForwardingRun? {
        func value(_ name: String) -> Int? { getenv(name).flatMap { Int(String(cString: $0)) }.map { max(1, $0) } }
        guard let packets = value("RIFTGATE_FORWARDING_PACKETS") else { return nil }
        return ForwardingRun(packets: packets, burst: value("RIFTGATE_FORWARDING_BURST") ?? 32,
                             timeout: .seconds(value("RIFTGATE_FORWARDING_TIMEOUT") ?? 120))
    }

    /// Runs the load. Throws when a socket cannot be set up; a stalled burst is reported in `timedOut`.
    func run() throws -> Outcome {
        let wireGuard = try WireGuardStandIn(datagramBytes: Self.datagramBytes)
        let forwarding = try ForwardingSocket(wireGuardPort: wireGuard.port)
        try wireGuard.connect(toPort: forwarding.port)
        let ice = FakeICESend()
        let loop = try ForwardingLoop()
        loop.add(forwarding, send: { [ice] datagrams in ice.send(batch: datagrams) })
        var outcome = Outcome()
        while outcome.sent < packets {
            let end = min(packets, outcome.sent + burst)
            for sequence in outcome.sent..<end where !wireGuard.send(sequence: UInt64(sequence)) {
                throw StandInError("send", errno)
            }
            outcome.sent = end
            guard Self.wait(until: { ice.delivered.load(ordering: .acquiring) >= end }, timeout: timeout) else {
                outcome.timedOut = true
                break
            }
        }
        loop.remove(forwarding)
        loop.shutdown()
        outcome.delivered = ice.delivered.load(ordering: .acquiring)
        outcome.outOfOrder = ice.outOfOrder.load(ordering: .relaxed)
        outcome.packetsOut = loop.packetsOut.load(ordering: .relaxed)
        outcome.bytesOut = loop.bytesOut.load(ordering: .relaxed)
        outcome.dropsOut = loop.dropsOut.load(ordering: .relaxed)
        return outcome
    }

    /// Polls `condition` every 50 µs until it holds or `timeout` passes; true when it held.
    static func wait(until condition: () -> Bool, timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !condition() {
            if clock.now >= deadline { return false }
            usleep(50)
        }
        return true
    }
}
