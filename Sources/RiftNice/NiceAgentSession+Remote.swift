internal import CRiftNice

extension NiceAgentSession {
    /// Sets the peer's credentials for the current generation (loop thread), then applies the candidates and
    /// end-of-candidates that arrived before them. `ufrag` and `pwd` are already validated.
    func setRemoteCredentials(ufrag: String, pwd: String) throws(ICEError) {
        guard !isClosed, let agent else { throw ICEError(.sessionClosed, "the session is closed") }
        guard nice_agent_set_remote_credentials(agent, streamID, ufrag, pwd) != 0 else {
            throw ICEError(.invalidCredentials, "nice_agent_set_remote_credentials failed")
        }
        let held = remoteCandidates.credentialsArrived()
        for line in held.candidates {
            // Each line parsed when it arrived; a failure now would be libnice refusing a duplicate.
            try? apply(line, to: agent)
        }
        if held.gatheringDone { _ = nice_agent_peer_candidate_gathering_done(agent, streamID) }
    }

    /// Adds one of the peer's candidates (loop thread): checked now, applied now or held until the remote
    /// credentials arrive. `line` is in `candidate:...` form.
    func addRemoteCandidate(_ line: String) throws(ICEError) {
        guard !isClosed, let agent else { throw ICEError(.sessionClosed, "the session is closed") }
        try parse(line, agent: agent) { _ in }
        switch remoteCandidates.candidateArrived(line) {
        case .apply: try apply(line, to: agent)
        case .buffered: break
        case .refused:
            throw ICEError(.tooManyPendingCandidates,
                           "more than \(RemoteCandidateQueue.capacity) candidates before the remote credentials")
        }
    }

    /// Tells libnice the peer has no more candidates (loop thread), once its credentials are known.
    func remoteGatheringDone() {
        guard !isClosed, let agent else { return }
        if remoteCandidates.peerGatheringDoneArrived() { _ = nice_agent_peer_candidate_gathering_done(agent, streamID) }
    }

    private func apply(_ line: String, to agent: OpaquePointer) throws(ICEError) {
        let stream = streamID
        var added: Int32 = 0
        try parse(line, agent: agent) { candidate in
            let list = g_slist_append(nil, candidate)
            added = nice_agent_set_remote_candidates(agent, stream, 1, list)
            g_slist_free(list)
        }
        guard added >= 0 else { throw ICEError(.invalidCandidate, "libnice refused the candidate") }
    }

    /// Parses `line` with libnice, accepts only UDP candidates of component 1, and lends the parsed
    /// candidate to `body` before freeing it.
    private func parse(_ line: String, agent: OpaquePointer,
                       _ body: (UnsafeMutablePointer<NiceCandidate>) -> Void) throws(ICEError) {
        guard let candidate = nice_agent_parse_remote_candidate_sdp(agent, streamID, CandidateAttribute.libniceForm(line))
        else { throw ICEError(.invalidCandidate, "not a candidate line libnice can parse") }
        defer { nice_candidate_free(candidate) }
        guard candidate.pointee.transport == NICE_CANDIDATE_TRANSPORT_UDP, candidate.pointee.component_id == 1 else {
            throw ICEError(.invalidCandidate, "only UDP candidates of component 1 are used")
        }
        body(candidate)
    }
}
