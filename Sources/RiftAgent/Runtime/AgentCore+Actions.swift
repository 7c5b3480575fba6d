import Logging
import RiftNice
import RiftProtocol
import RiftWireGuard

extension AgentCore {
    /// WireGuard's persistent keepalive for every peer: keeps NAT mappings and TURN permissions open, and gives a working
    /// path at least one packet a second from the peer, so a path that stops delivering is noticed within two seconds
    /// (`ReceiveWatch`). It costs one 32-byte packet (about 80 bytes on the wire) a second each way per idle peer.
    static let keepaliveSeconds: UInt16 = 1

    /// libnice's `Ta` for relay-only generations, in milliseconds: the smallest RFC 8445 allows, instead of libnice's
    /// 20 ms. Such a generation has one TURN server to allocate on and a pair or two to check, so pacing protects
    /// nothing, while a failover waits on it three times (the Allocate retried after its 401, the end of gathering,
    /// the controlled side's triggered check): about 45 of the 50-70 ms of the negotiation (docs/performance.md,
    /// "Failover"). RFC 8445's 5 ms holds for all of a host's agents together; a relay-only generation sends a
    /// handful of STUN transactions, and normal generations keep libnice's 20 ms.
    static let relayOnlyCheckPacingMilliseconds = ICESessionConfiguration.minimumCheckPacingMilliseconds

    /// Performs the mesh's actions in order; ICE session starts feed their credentials straight back.
    func perform(_ initial: [MeshAction]) {
        var queue = initial[...]
        while let action = queue.popFirst() {
            queue.append(contentsOf: perform(action))
        }
    }

    private func perform(_ action: MeshAction) -> [MeshAction] {
        timeline(action)
        switch action {
        case .sendSignal(let payload):
            environment.transport.send(payload)
        case .startICE(let peer, let instance, let controlling, let scope):
            return startICE(peer: peer, instance: instance, controlling: controlling, scope: scope)
        case .setRemoteDescription(_, let instance, let ufrag, let pwd, let candidates):
            guard let link = links[instance] else { break }
            do {
                try link.setRemoteCredentials(ufrag: ufrag, pwd: pwd)
                for candidate in candidates { try link.addRemoteCandidate(candidate) }
            } catch {
                logger.warning("ICE remote description rejected: \(error)")
            }
        case .addRemoteCandidate(_, let instance, let candidate):
            do { try links[instance]?.addRemoteCandidate(candidate) } catch {
                logger.debug("remote candidate rejected: \(error)")
            }
        case .remoteGatheringDone(_, let instance):
            links[instance]?.remoteGatheringDone()
        case .closeICE(let peer, let instance):
            // With a forwarding socket, the session stays open a moment for what the peer still sends over it.
            if let link = links.removeValue(forKey: instance) { linger(peer, instance: instance, closing: link) }
        case .bindForwarding(_, let instance):
            bindForwarding(instance: instance)
        case .releaseForwarding(let peer, let instance):
            if lingering[instance] == nil { linger(peer, instance: instance, closing: nil) }
        case .configureWireGuardPeer(let info, let path, let instance, let keepalive):
            configurePeer(info, path: path, instance: instance, keepalive: keepalive)
        case .removeWireGuardPeer(let key):
            environment.portHandover.remove(key)
            wireGuardPeers[key] = nil
            deferredEndpoints[key] = nil
            do { try device?.removePeer(key) } catch { logger.warning("cannot remove WireGuard peer \(key): \(error)") }
            forget(key)
        case .sendKeepalive(let key):
            do { try device?.sendKeepalive(to: key, interval: Self.keepaliveSeconds) } catch {
                logger.debug("cannot ask WireGuard for a keepalive to \(key): \(error)")
            }
        case .probePath(let info):
            environment.pathProbe.probe(info.ipv4)
        case .restartWireGuardHandshake(let info, let path, let instance):
            logger.info("peer \(info.name): no WireGuard handshake yet; starting a fresh one")
            wireGuardPeers[info.publicKey] = nil
            do { try device?.removePeer(info.publicKey) } catch {
                logger.warning("cannot remove WireGuard peer \(info.publicKey): \(error)")
            }
            configurePeer(info, path: path, instance: instance, keepalive: .now)
        }
        return []
    }

    private func startICE(peer: PublicKey, instance: UInt64, controlling: Bool, scope: ICECandidateScope) -> [MeshAction] {
        if let session = mesh.peers[peer] {
            let role = controlling ? "offering" : "answering"
            let scopeText = scope.restriction.map { " (\($0))" } ?? ""
            let reason = controlling ? session.lastRecoveryReason.map { "; last recovery: \($0)" } ?? "" : ""
            logger.info("peer \(session.info.name): \(role) ICE generation \(session.generation)\(scopeText)\(reason)")
        }
        var settings = ICESessionConfiguration(
            controlling: controlling,
            servers: ICEServerList.configuration(for: iceServers, scope: scope))
        settings.consentFreshness = true
        if scope == .relayOnly { settings.checkPacingMilliseconds = Self.relayOnlyCheckPacingMilliseconds }
        // With an exit node, libnice's sockets use ports the policy routing keeps out of the tunnel (ExitRouting).
        if configuration.exitNode != nil { settings.portRange = ExitRouting.icePorts }
        settings.localAddresses = environment.localAddresses(configuration.interface, mesh.welcome?.ipv4Prefix)
        let link: any ICELink
        do {
            link = try environment.ice.makeLink(settings) { [inbox] event in
                inbox.post(.mesh(Self.meshEvent(event, peer: peer, instance: instance)))
            }
        } catch {
            logger.error("cannot create an ICE session for \(peer): \(error)")
            return []
        }
        links[instance] = link
        provisionWireGuardPeer(peer)
        let credentials = link.localCredentials
        do { try link.startGathering() } catch {
            logger.error("ICE gathering failed for \(peer): \(error)")
        }
        return mesh.handle(.iceStarted(peer: peer, instance: instance, ufrag: credentials.ufrag, pwd: credentials.pwd))
    }

    static func meshEvent(_ event: ICEEvent, peer: PublicKey, instance: UInt64) -> MeshEvent {
        switch event {
        case .localCandidate(let line): .iceCandidate(peer: peer, instance: instance, candidate: line)
        case .gatheringDone: .iceGatheringDone(peer: peer, instance: instance)
        case .stateChanged(let state): .iceState(peer: peer, instance: instance, state: ICEConnectivity(state))
        case .selectedPair(let local, let remote):
            .iceSelectedPair(peer: peer, instance: instance, local: CandidateEndpoint(local), remote: CandidateEndpoint(remote))
        }
    }

    /// Adds `key` to WireGuard, without allowed IPs, endpoint or keepalive, when its first ICE session starts, so that
    /// WireGuard answers the peer's first handshake whenever it comes. The peer's WireGuard may start as soon as its
    /// own ICE agent selects a pair: before ours reports the pair (a regular nomination reaches both sides at once), or
    /// while `nft` loads a hand-over's rules (tens of milliseconds). Without the peer, WireGuard dropped that initiation
    /// and the peer retried only after 5 s (REKEY_TIMEOUT): seen with pion and aioice peers going direct from behind a
    /// NAT to a public riftgate (Tests/e2e/test_ice_interop.py, "mixed"). Answering it also teaches WireGuard the
    /// endpoint it came from (roaming; see `endpointLearnedAhead`).
    ///
    /// Without allowed IPs nothing of ours goes to the peer before its path: a packet for its addresses finds no peer,
    /// as before. With them, such a packet made WireGuard start a handshake it could not send for want of an endpoint,
    /// and WireGuard then ignored every request for another one for 5 s, the deferred keepalive's included.
    private func provisionWireGuardPeer(_ key: PublicKey) {
        guard let device, wireGuardPeers[key] == nil, let info = mesh.peers[key]?.info else { return }
        do {
            try device.setPeer(WireGuardPeer(publicKey: key, endpoint: nil, allowedIPs: [], persistentKeepalive: nil))
            wireGuardPeers[key] = .added
        } catch {
            logger.warning("cannot add WireGuard peer \(info.name) ahead of its path: \(error)")
        }
    }

    /// Where the peer's WireGuard reached ours from, when it completed a handshake with the peer added ahead of its
    /// path (`provisionWireGuardPeer`) before the first path set an endpoint; nil otherwise. WireGuard learned that
    /// endpoint from the peer's own initiation, so it is where the peer's WireGuard listens, and for a first path it
    /// must not be overwritten: an implementation that reports its pair's local end as the host candidate it sent
    /// from, not as the reflexive address we see, goes direct from behind a NAT (§9.2) while we hand over to its ICE
    /// socket, and overwriting the learned endpoint lost our packets until its next keepalive roamed WireGuard back
    /// (1.4 s with the pion and aioice peers of Tests/e2e/test_ice_interop.py, "mixed"). Against riftgate the learned
    /// endpoint is the selected pair's remote end anyway. Later paths (a new generation) set their endpoint as usual.
    private func endpointLearnedAhead(of key: PublicKey) -> String? {
        guard wireGuardPeers[key] != .pointed, let status = try? device?.status().peer(key), status.lastHandshake != nil
        else { return nil }
        return status.endpoint
    }

    /// A controlled-side peer's keepalive is due: turn it on, unless the peer is gone or has no path. A first path's
    /// endpoint comes with it, unless WireGuard learned one from the peer's initiation meanwhile; without an endpoint,
    /// WireGuard keeps the one it has.
    func enableKeepalive(_ key: PublicKey) {
        let deferred = deferredEndpoints.removeValue(forKey: key)
        guard let device, wireGuardPeers[key] == .pointed, let info = mesh.peers[key]?.info else { return }
        let learned = deferred == nil ? nil : (try? device.status().peer(key))?.endpoint
        let peer = wireGuardPeer(info, endpoint: learned == nil ? deferred : nil, keepalive: Self.keepaliveSeconds)
        do { try device.setPeer(peer) } catch { logger.warning("cannot enable keepalive for \(key): \(error)") }
    }

    static func allowedIPs(_ info: PeerInfo) -> [String] { ["\(info.ipv4)/32", "\(info.ipv6)/128"] }

    /// The peer's WireGuard allowed IPs: its overlay addresses plus the subnet routes accepted through it.
    func allowedIPs(_ info: PeerInfo) -> [String] { Self.allowedIPs(info) + environment.routes.allowedIPs(for: info.publicKey) }

    /// The WireGuard peer for `info` with its allowed IPs; the exit node in use is the one peer allowed the default
    /// routes (`RouteInstaller.allowedIPs` gives them to it alone).
    func wireGuardPeer(_ info: PeerInfo, endpoint: WireGuardEndpoint?, keepalive: UInt16?) -> WireGuardPeer {
        var peer = WireGuardPeer(publicKey: info.publicKey, endpoint: endpoint, allowedIPs: allowedIPs(info),
                                 persistentKeepalive: keepalive)
        peer.isExitNode = peer.allowedIPs.contains("0.0.0.0/0")
        return peer
    }

    /// Binds ICE session `instance`'s forwarding socket (kept when already bound); a failure is logged, and the
    /// `configureWireGuardPeer` that follows finds no port and leaves WireGuard as it was.
    private func bindForwarding(instance: UInt64) {
        guard let device, let link = links[instance] else { return }
        keepLingering(instance: instance)
        do {
            forwardingPorts[instance] = try environment.forwarder.forward(
                instance: instance, link: link, wireGuardPort: device.listenPort)
        } catch {
            logger.error("cannot forward over ICE session \(instance): \(error)")
        }
    }

    private func configurePeer(_ info: PeerInfo, path: DataPathMode, instance: UInt64, keepalive: KeepaliveStart) {
        guard let device, links[instance] != nil else { return }
        // Make before break: a hand-over's rules go only once WireGuard points elsewhere. Removed first, they left
        // WireGuard sending to the old remote candidate from its own port, unrewritten, for as long as `nft` took
        // (a new NAT mapping the peer's relay or NAT may not pass). Kept a moment, they cannot hurt: they match only
        // that remote candidate, which WireGuard no longer sends to, and its datagrams still reach WireGuard.
        defer { if case .handedOver = path {} else { environment.portHandover.remove(info.publicKey) } }
        switch path {
        case .direct:
            break
        case .handedOver(let handover):
            guard environment.portHandover.install(handover, for: info.publicKey, wireGuardPort: device.listenPort) else {
                // No rules, no hand-over: the mesh forwards this peer from now on (and says why in status).
                perform(mesh.handoverUnavailable(info.publicKey))
                return
            }
            watchForBypass(of: info.publicKey, instance: instance)
        case .forwarded:
            guard forwardingPorts[instance] != nil else {
                logger.error("peer \(info.name): no forwarding socket for the forwarded path")
                return
            }
        }
        guard let endpoint = wireGuardEndpoint(for: path, instance: instance) else {
            logger.error("peer \(info.name): unusable endpoint address for \(path)")
            return
        }
        var peer = wireGuardPeer(info, endpoint: endpoint, keepalive: Self.keepaliveSeconds)
        if let learned = endpointLearnedAhead(of: info.publicKey) {
            peer.endpoint = nil
            let kept = "its WireGuard completed a handshake from \(learned) before our first path was set"
            logger.info("peer \(info.name): \(kept); keeping that endpoint")
        }
        deferredEndpoints[info.publicKey] = nil
        if case .after(let delay) = keepalive {
            peer.persistentKeepalive = nil
            // A first path's endpoint waits for the keepalive too: with it, a packet of ours for the peer would make
            // WireGuard start a handshake at once, and over a slow path that initiation crosses the controlling
            // side's (each side then rejects the answer to its own, and the tunnel waits for WireGuard's 5 s retry;
            // the slow-link lab did so whenever the controlled side's machine was already sending). Without one,
            // WireGuard answers the controlling side's initiation where it came from and learns the endpoint from it.
            // Not on a direct path: there our WireGuard's own first packets open the stateful firewalls between the
            // two listen ports (the dual-stack lab's IPv6 pair), which the controlling side's initiation cannot pass
            // before them; and wireguard-go, its handshake with no endpoint failed, would not send the keepalive's.
            if case .direct = path {} else if wireGuardPeers[info.publicKey] != .pointed, let endpoint = peer.endpoint {
                deferredEndpoints[info.publicKey] = endpoint
                peer.endpoint = nil
            }
            let milliseconds = delay.components.seconds * 1_000 + delay.components.attoseconds / 1_000_000_000_000_000
            inbox.post(.enableKeepalive(info.publicKey), at: now + milliseconds)
        }
        do {
            try device.setPeer(peer)
            wireGuardPeers[info.publicKey] = .pointed
            logger.info("peer \(info.name): \(Self.pathName(path)) path via \(endpoint)")
        } catch {
            logger.error("cannot configure WireGuard peer \(info.name): \(error)")
        }
    }

    /// Binds ICE session `instance`'s forwarding socket as a handed-over pair's safety net: WireGuard does not send to
    /// it, and it passes on what the ICE agent receives only through `HandoverBypassWatch`, which also reports it.
    private func watchForBypass(of peer: PublicKey, instance: UInt64) {
        guard let device, let link = links[instance] else { return }
        keepLingering(instance: instance)
        let watch = HandoverBypassWatch(clock: environment.clock, since: now) { [inbox] in
            inbox.post(.mesh(.handoverBypassed(peer: peer, instance: instance)))
        }
        do {
            forwardingPorts[instance] = try environment.forwarder.forward(
                instance: instance, link: link, wireGuardPort: device.listenPort, admit: { watch.admit() })
        } catch {
            logger.warning("peer \(peer): no standby forwarding socket for the hand-over: \(error)")
        }
    }

    static func pathName(_ path: DataPathMode) -> String {
        switch path {
        case .direct: "direct"
        case .handedOver(let handover): "hand-over (\(handover))"
        case .forwarded: "forwarded"
        }
    }
}
