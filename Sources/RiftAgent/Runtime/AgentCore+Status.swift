import Logging
import RiftCrypto
import RiftProtocol
import RiftSupport
import RiftWireGuard

extension AgentStatus {
    /// Shown if status is asked before the agent has published anything.
    static let placeholder = AgentStatus(
        name: "", publicKey: "", network: "", interface: "", ipv4: nil, ipv6: nil, listenPort: 0, backend: "",
        hub: Hub(url: "", state: .starting, lastError: nil), peers: [])
}

extension AgentCore {
    /// Rebuilds the status snapshot the control socket serves.
    func publishStatus() {
        let wireguard = Dictionary((lastDeviceStatus?.peers ?? []).map { ($0.publicKey, $0) }, uniquingKeysWith: { a, _ in a })
        let domain = mesh.welcome?.dnsDomain
        let peers = mesh.peers.values.sorted { $0.info.name < $1.info.name }.map { session in
            var peer = Self.peerStatus(session, wireguard: wireguard[session.info.publicKey], underlay: knownAddresses,
                                       hasReflexiveSource: !(iceServers.stun.isEmpty && iceServers.turn.isEmpty))
            peer.dnsName = Self.fullName(session.info.dnsName, domain)
            peer.absentFromHubSeconds = session.absentFromHubSince.map { max(0, mesh.now - $0) / 1_000 }
            peer.hint = PeerHint.text(failedAttempts: session.failedGenerationsInARow,
                                      hubConnected: hubState == .connected, relayOffered: mesh.relayAvailable)
            return peer
        }
        var status = AgentStatus(
            name: configuration.name, publicKey: secrets.privateKey.publicKey.base64, network: configuration.network,
            interface: configuration.interface, ipv4: mesh.welcome?.me.ipv4.description, ipv6: mesh.welcome?.me.ipv6.description,
            listenPort: device?.listenPort ?? 0, backend: device.map { "\($0.backend)" } ?? "-",
            hub: .init(url: environment.transport.currentHub ?? configuration.hubURL, state: hubState, lastError: hubError), peers: peers)
        status.dnsName = Self.fullName(mesh.welcome?.me.dnsName, domain)
        if configuration.dns, let domain {
            let listening = environment.names.listening
            status.dns = AgentStatus.DNS(domain: domain, resolver: listening.first, resolvers: listening)
        }
        status.names = environment.hostNames.status
        status.routes = environment.routes.status
        snapshot.withLock { $0 = status }
        if let failure = metricsTextfile?.update(status) { logger.warning("\(failure)") }
    }

    /// `<label>.<domain>`, nil unless both are known.
    static func fullName(_ label: String?, _ domain: String?) -> String? {
        guard let label, let domain else { return nil }
        return "\(label).\(domain)"
    }

    /// One peer's line. A host pair whose local address is no longer among the `underlay` addresses (the network
    /// changed and the new generation has not selected a pair yet) is not shown as current: the peer is
    /// "re-establishing"; so is a peer with a recent handshake whose path was found dead (`PeerSession.pathLostAt`)
    /// or whose retries have failed since.
    static func peerStatus(_ session: PeerSession, wireguard: WireGuardPeerStatus?, underlay: Set<String>,
                           hasReflexiveSource: Bool = true) -> AgentStatus.Peer {
        var pair = session.activePair
        var state: AgentStatus.PeerState = session.isConnected ? .connected : .ice(session.connectivity)
        if let local = pair?.local, local.kind == .host, !underlay.isEmpty, !underlay.contains(local.address) {
            pair = nil
            state = .reestablishing
        }
        // A recent handshake, but the path died (and perhaps a retry failed since): not connected, whatever the
        // handshake's age (it stays under three minutes for a while after the path died).
        if state == .connected, session.pathLostAt != nil || session.failedGenerationsInARow > 0 { state = .reestablishing }
        let pathType: AgentStatus.PathType? = pair.map { pair in
            if pair.local.kind == .relayed || pair.remote.kind == .relayed { return .relayed }
            if pair.local.kind == .host && pair.remote.kind == .host { return .host }
            return .serverReflexive
        }
        let mode: AgentStatus.PathMode? = switch session.path {
        case .direct?: .direct
        case .handedOver?: .handedOver
        case .forwarded?: .forwarded
        case nil: nil
        }
        return AgentStatus.Peer(
            name: session.info.name, publicKey: session.info.publicKey.base64, ipv4: session.info.ipv4.description,
            ipv6: session.info.ipv6.description,
            state: state,
            pathType: pathType, pathMode: mode, pathReason: session.pathReason,
            localCandidate: pair?.local.description, remoteCandidate: pair?.remote.description,
            endpoint: wireguard?.endpoint, lastHandshakeSecondsAgo: session.handshakeAge,
            rxBytes: wireguard?.rxBytes ?? 0, txBytes: wireguard?.txBytes ?? 0,
            iceState: session.connectivity, lastRecoveryReason: session.lastRecoveryReason,
            iceRestarts: session.generation,
            relayReason: pair == nil ? nil : session.relayReason(hasReflexiveSource: hasReflexiveSource))
    }
}
