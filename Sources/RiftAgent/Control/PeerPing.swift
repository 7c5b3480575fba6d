import FoundationEssentials
import Glibc

/// `riftgate ping`: finds the peer in the running agent's status, sends ICMP echoes to its overlay address through
/// the tunnel, and reports which path answered (read from the agent's status after the echoes, so it is the path that
/// carried them).
public struct PeerPing {
    public var socketPath: String
    public var target: String
    public var count = 1
    /// Seconds to wait for each reply.
    public var timeout = 2.0
    /// Seconds between echoes.
    public var interval = 1.0

    public init(socketPath: String, target: String) {
        self.socketPath = socketPath
        self.target = target
    }

    /// Runs the echoes. Fails with a clear message if the agent is not running, the peer is unknown, or the agent has
    /// no tunnel to it yet; a peer that does not answer is a report with no replies, not an error.
    public func run() throws(AgentError) -> PingReport {
        let before = try ControlClient.status(socketPath: socketPath).peer(named: target)
        guard before.pathMode != nil else {
            let why = before.hint ?? "ICE has not selected a path; see `riftgate status --verbose`"
            throw AgentError.system("no tunnel to \(before.name) yet (state \(before.state.description)): \(why)")
        }
        let echo = try ICMPEcho(ipv4: before.ipv4)
        var probes: [PingReport.Probe] = []
        for sequence in 1...max(1, count) {
            let started = Date()
            let rtt = try echo.echo(sequence: UInt16(truncatingIfNeeded: sequence), timeout: timeout)
            probes.append(.init(sequence: sequence, rttMs: rtt.map { $0 * 1000 }))
            if sequence < count {
                let rest = interval - Date().timeIntervalSince(started)
                if rest > 0 { usleep(useconds_t(rest * 1_000_000)) }
            }
        }
        let latest = try? ControlClient.status(socketPath: socketPath)
        let after = latest?.peers.first { $0.publicKey == before.publicKey } ?? before
        return PingReport(peer: after, probes: probes)
    }
}
