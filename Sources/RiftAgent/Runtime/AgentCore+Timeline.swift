import FoundationEssentials
import Logging
import RiftProtocol

// The negotiation timeline, at debug level: each step of an ICE generation (signals in and out, gathering, the TURN
// allocation's relayed candidate, checks succeeding, the pair selected, WireGuard pointed at it) with the wall clock in
// milliseconds, so the logs of both agents and a ping log line up. It is how the failover's relay-only negotiation was
// timed (docs/performance.md, "Failover"); in steady state none of these events happen.
extension AgentCore {
    /// Logs the step `event` is, if any, at debug level (nothing is built otherwise).
    func timeline(_ event: RuntimeEvent) {
        guard logger.logLevel <= .debug, let step = Self.timelineStep(event) else { return }
        logStep(step)
    }

    /// Logs the step `action` is, if any, at debug level (nothing is built otherwise).
    func timeline(_ action: MeshAction) {
        guard logger.logLevel <= .debug, let step = Self.timelineStep(action) else { return }
        logStep(step)
    }

    /// Logs one step of a generation's negotiation, with the wall clock to the millisecond.
    private func logStep(_ step: String) {
        let milliseconds = Int64((Date().timeIntervalSince1970 * 1_000).rounded())
        logger.debug("timeline \(milliseconds / 1_000).\(Self.threeDigits(milliseconds % 1_000)) \(step)")
    }

    /// The timeline step an event from the inbox is, or nil when it is none.
    static func timelineStep(_ event: RuntimeEvent) -> String? {
        switch event {
        case .hub(.signal(let payload)):
            return "signal in: \(describe(payload))"
        case .mesh(.iceCandidate(_, let instance, let line)):
            return "ice \(instance): local candidate \(candidateType(line))"
        case .mesh(.iceGatheringDone(_, let instance)):
            return "ice \(instance): gathering done"
        case .mesh(.iceState(_, let instance, let state)):
            return "ice \(instance): state \(state)"
        case .mesh(.iceSelectedPair(_, let instance, let local, let remote)):
            return "ice \(instance): selected pair \(endpoint(local)) -> \(endpoint(remote))"
        default:
            return nil
        }
    }

    /// The timeline step an action is, or nil when it is none.
    static func timelineStep(_ action: MeshAction) -> String? {
        switch action {
        case .sendSignal(let payload):
            return "signal out: \(describe(payload))"
        case .startICE(_, let instance, let controlling, let scope):
            let scopeText = scope.restriction.map { ", \($0)" } ?? ""
            return "ice \(instance): start (\(controlling ? "controlling" : "controlled")\(scopeText))"
        case .setRemoteDescription(_, let instance, _, _, let candidates):
            return "ice \(instance): remote description set (\(candidates.count) candidates)"
        case .addRemoteCandidate(_, let instance, let line):
            return "ice \(instance): remote candidate \(candidateType(line)) added"
        case .remoteGatheringDone(_, let instance):
            return "ice \(instance): remote gathering done"
        case .closeICE(_, let instance):
            return "ice \(instance): closed"
        case .configureWireGuardPeer(_, let path, let instance, _):
            return "ice \(instance): WireGuard pointed at the \(pathName(path)) path"
        case .restartWireGuardHandshake(_, _, let instance):
            return "ice \(instance): WireGuard handshake restarted"
        case .probePath(let info):
            return "path to \(info.name) quiet: probe sent to \(info.ipv4)"
        default:
            return nil
        }
    }

    private static func describe(_ payload: SignalPayload) -> String {
        var text = "\(payload.kind.rawValue) generation \(payload.generation)"
        if payload.relayOnly { text += " (relay only)" }
        if case .candidate(let line) = payload.body { text += " \(candidateType(line))" }
        return text
    }

    /// The `typ` of an SDP candidate line ("host", "srflx", "relay", …), which is all the timeline needs.
    private static func candidateType(_ line: String) -> String { CandidateLine(line).map { String($0.type) } ?? "?" }

    private static func endpoint(_ end: CandidateEndpoint) -> String { "\(end.kind.rawValue) \(end.address):\(end.port)" }

    private static func threeDigits(_ value: Int64) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 3 - text.count)) + text
    }
}
