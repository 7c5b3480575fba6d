internal import CRiftNice

/// The C signatures of the libnice signals the session listens to (each ends with the user-data pointer).
private typealias NewCandidateFull = @convention(c) (OpaquePointer?, UnsafeMutablePointer<NiceCandidate>?, gpointer?) -> Void
private typealias GatheringDone = @convention(c) (OpaquePointer?, guint, gpointer?) -> Void
private typealias ComponentStateChanged = @convention(c) (OpaquePointer?, guint, guint, guint, gpointer?) -> Void
private typealias NewSelectedPairFull = @convention(c) (
    OpaquePointer?, guint, guint, UnsafeMutablePointer<NiceCandidate>?, UnsafeMutablePointer<NiceCandidate>?, gpointer?
) -> Void

extension NiceAgentSession {
    /// Connects the four signals the session reports, with `callbackContext` as their data (loop thread).
    ///
    /// libnice emits signals with its lock released, on the thread that caused them (the loop thread for
    /// everything this module does). The handlers only read the agent and yield to the events continuation,
    /// which is thread-safe, so a signal from another thread would still be handled correctly.
    func connectSignals(_ agent: OpaquePointer) {
        let object = UnsafeMutableRawPointer(agent)
        let newCandidate: NewCandidateFull = { agent, candidate, data in
            guard let agent, let candidate, let data else { return }
            let session = Unmanaged<NiceAgentSession>.fromOpaque(data).takeUnretainedValue()
            guard session.isActive(stream: candidate.pointee.stream_id), candidate.pointee.component_id == 1,
                  candidate.pointee.transport == NICE_CANDIDATE_TRANSPORT_UDP,
                  let line = NiceAgentSession.attribute(of: candidate, agent: agent)
            else { return }
            session.continuation.yield(.localCandidate(line))
        }
        let gatheringDone: GatheringDone = { _, stream, data in
            guard let data else { return }
            let session = Unmanaged<NiceAgentSession>.fromOpaque(data).takeUnretainedValue()
            guard session.isActive(stream: stream) else { return }
            session.continuation.yield(.gatheringDone)
        }
        let stateChanged: ComponentStateChanged = { _, stream, component, state, data in
            guard let data else { return }
            let session = Unmanaged<NiceAgentSession>.fromOpaque(data).takeUnretainedValue()
            guard session.isActive(stream: stream), component == 1, let state = ICEState(niceState: state) else { return }
            session.continuation.yield(.stateChanged(state))
        }
        let selectedPair: NewSelectedPairFull = { agent, stream, component, local, remote, data in
            guard let agent, let local, let remote, let data else { return }
            let session = Unmanaged<NiceAgentSession>.fromOpaque(data).takeUnretainedValue()
            guard session.isActive(stream: stream), component == 1,
                  let localInfo = NiceAgentSession.info(of: local, agent: agent),
                  let remoteInfo = NiceAgentSession.info(of: remote, agent: agent)
            else { return }
            session.observed.withLock { $0.selectedPair = (localInfo, remoteInfo) }
            session.continuation.yield(.selectedPair(local: localInfo, remote: remoteInfo))
        }
        let context = callbackContext
        _ = CRiftNice_signal_connect(object, "new-candidate-full", unsafeBitCast(newCandidate, to: GCallback.self), context)
        _ = CRiftNice_signal_connect(object, "candidate-gathering-done", unsafeBitCast(gatheringDone, to: GCallback.self), context)
        _ = CRiftNice_signal_connect(object, "component-state-changed", unsafeBitCast(stateChanged, to: GCallback.self), context)
        _ = CRiftNice_signal_connect(object, "new-selected-pair-full", unsafeBitCast(selectedPair, to: GCallback.self), context)
    }

    /// Whether a signal about `stream` concerns the current stream (not one a restart removed).
    private func isActive(stream: guint) -> Bool {
        stream != 0 && stream == activeStreamID.load(ordering: .acquiring)
    }

    /// The `candidate:...` line libnice generates for `candidate`.
    static func attribute(of candidate: UnsafeMutablePointer<NiceCandidate>, agent: OpaquePointer) -> String? {
        guard let text = nice_agent_generate_local_candidate_sdp(agent, candidate) else { return nil }
        defer { g_free(text) }
        return CandidateAttribute.exchangeForm(String(cString: text))
    }

    /// The public description of `candidate`: kind, numeric address, port, SDP line and base (`base_addr`, which
    /// libnice fills for local candidates; left nil when it holds no valid address, as for remote ones).
    static func info(of candidate: UnsafeMutablePointer<NiceCandidate>, agent: OpaquePointer) -> ICECandidateInfo? {
        guard let type = ICECandidateType(niceType: candidate.pointee.type),
              let (numeric, port) = numericAddress(candidate.pointee.addr) else { return nil }
        var info = ICECandidateInfo(type: type, address: numeric, port: port, sdp: attribute(of: candidate, agent: agent))
        if let (base, basePort) = numericAddress(candidate.pointee.base_addr), basePort != 0 {
            info.baseAddress = base
            info.basePort = basePort
        }
        return info
    }

    /// `address` as numeric text and port; nil when it holds no IPv4 or IPv6 address.
    private static func numericAddress(_ address: NiceAddress) -> (String, UInt16)? {
        var address = address
        guard nice_address_is_valid(&address) != 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(NICE_ADDRESS_STRING_LEN))
        nice_address_to_string(&address, &text)
        let port = UInt16(truncatingIfNeeded: nice_address_get_port(&address))
        return (text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }, port)
    }
}

extension ICEState {
    /// Maps `NiceComponentState`; nil for values outside the enumeration.
    init?(niceState: guint) {
        switch NiceComponentState(rawValue: niceState) {
        case NICE_COMPONENT_STATE_DISCONNECTED: self = .disconnected
        case NICE_COMPONENT_STATE_GATHERING: self = .gathering
        case NICE_COMPONENT_STATE_CONNECTING: self = .connecting
        case NICE_COMPONENT_STATE_CONNECTED: self = .connected
        case NICE_COMPONENT_STATE_READY: self = .ready
        case NICE_COMPONENT_STATE_FAILED: self = .failed
        default: return nil
        }
    }
}

extension ICECandidateType {
    /// Maps `NiceCandidateType`; nil for values outside the enumeration.
    init?(niceType: NiceCandidateType) {
        switch niceType {
        case NICE_CANDIDATE_TYPE_HOST: self = .host
        case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: self = .serverReflexive
        case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: self = .peerReflexive
        case NICE_CANDIDATE_TYPE_RELAYED: self = .relayed
        default: return nil
        }
    }
}
