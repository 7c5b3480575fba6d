/// The connectivity state of the session's single component, as libnice reports it.
public enum ICEState: String, Sendable, Hashable {
    /// Not started yet, or the component lost its connection.
    case disconnected
    /// Local candidates are being gathered.
    case gathering
    /// Connectivity checks are running.
    case connecting
    /// At least one candidate pair works; data can flow.
    case connected
    /// Checks are over and a pair is nominated; data flows on it.
    case ready
    /// No pair worked, or consent freshness expired: restart or close the session.
    case failed
}

/// Something that happened in an `ICESession`, delivered in order on `ICESession.events`.
public enum ICEEvent: Sendable, Hashable {
    /// A local candidate was gathered; send it to the peer. The text is the SDP attribute form
    /// (`candidate:...`, no `a=` prefix) that `ICESession.addRemoteCandidate` accepts.
    case localCandidate(String)
    /// Local gathering finished; tell the peer so it can call `remoteGatheringDone()`.
    case gatheringDone
    /// The component changed state.
    case stateChanged(ICEState)
    /// libnice selected (or changed) the pair that carries data.
    case selectedPair(local: ICECandidateInfo, remote: ICECandidateInfo)
}
