import Foundation
import RiftNice
import RiftProtocol
import RiftWireGuard

extension AgentRuntime {
    /// Performs the mesh's actions in order; ICE session starts feed their credentials straight back.
    func perform(_ initial: [MeshAction]) {
        var queue = initial[...]
        while let action = queue.popFirst() {
            queue.append(contentsOf: perform(action))
        }
    }

    private func perform(_ action: MeshAction) -> [MeshAction] {
        switch action {
        case .sendSignal(let payload):
            hub.send(payload)
        case .startICE(let peer, let instance, let controlling, let forceRelay):
            return startICE(peer: peer, instance: instance, controlling: controlling, forceRelay: forceRelay)
        case .setRemoteDescription(_, let instance, let ufrag, let pwd, let candidates):
            guard let link = links[instance] else { break }
            do {
                try link.session.setRemoteCredentials(ufrag: ufrag, pwd: pwd)
                for candidate in candidates { try link.session.addRemoteCandidate(candidate) }
            } catch {
                logger.warning("ICE remote description rejected: \(error)")
            }
        case .addRemoteCandidate(_, let instance, let candidate):
            do { try links[instance]?.session.addRemoteCandidate(candidate) } catch {
                logger.debug("remote candidate rejected: \(error)")
            }
        case .remoteGatheringDone(_, let instance):
            links[instance]?.session.remoteGatheringDone()
        case .closeICE(let peer, let instance):
            if let link = links.removeValue(forKey: instance) {
                if let socket = link.bind(nil) { forwarding?.remove(socket) }
                link.close()
            }
            if linkOfPeer[peer] == instance { linkOfPeer[peer] = nil }
        case .configureWireGuardPeer(let info, let path, let instance):
            configurePeer(info, path: path, instance: instance)
        case .removeWireGuardPeer(let key):
            deferredKeepalives[key] = nil
            do { try device?.removePeer(key) } catch { logger.warning("cannot remove WireGuard peer \(key): \(error)") }
        }
        return []
    }

    private func startICE(peer: PublicKey, instance: UInt64, controlling: Bool, forceRelay: Bool) -> [MeshAction] {
        guard let iceLoop else { return [] }
        var settings = ICESessionConfiguration(controlling: controlling, servers: ICEServerList.configuration(for: iceServers, forceRelay: forceRelay))
        settings.consentFreshness = true
        settings.localAddresses = LocalAddresses.forICE(excludingInterface: configuration.interface,
                                                        overlay: mesh.welcome?.ipv4Prefix)
        let session: ICESession
        do {
            session = try ICESession(loop: iceLoop, configuration: settings)
        } catch {
            logger.error("cannot create an ICE session for \(peer): \(error)")
            return []
        }
        let link = ICEPeerLink(session: session, instance: instance)
        links[instance] = link
        linkOfPeer[peer] = instance
        let task = Task { [post] in
            for await event in session.events {
                post.yield(.mesh(Self.meshEvent(event, peer: peer, instance: instance)))
            }
        }
        link.eventTask.withLock { $0 = task }
        let credentials = session.localCredentials
        do { try session.startGathering() } catch {
            logger.error("ICE gathering failed for \(peer): \(error)")
        }
        return mesh.handle(.iceStarted(peer: peer, instance: instance, ufrag: credentials.ufrag, pwd: credentials.pwd))
    }

    static func meshEvent(_ event: ICEEvent, peer: PublicKey, instance: UInt64) -> MeshEvent {
        switch event {
        case .localCandidate(let line): return .iceCandidate(peer: peer, instance: instance, candidate: line)
        case .gatheringDone: return .iceGatheringDone(peer: peer, instance: instance)
        case .stateChanged(let state):
            return .iceState(peer: peer, instance: instance, state: ICEConnectivity(state))
        case .selectedPair(let local, let remote):
            return .iceSelectedPair(peer: peer, instance: instance, local: CandidateEndpoint(local), remote: CandidateEndpoint(remote))
        }
    }

    /// WireGuard's persistent keepalive for every peer: keeps NAT mappings and TURN permissions open.
    static let keepaliveSeconds: UInt16 = 25

    /// How long the controlled side waits before its own keepalive (and so its own handshake) starts: long enough for
    /// the controlling side's handshake on a LAN or through NAT, short enough that a lost one costs little.
    static let keepaliveDeferral: Duration = .milliseconds(250)

    /// Turns on keepalive for controlled-side peers configured since it was deferred (also run on every tick).
    func applyDeferredKeepalives() {
        guard let device, !deferredKeepalives.isEmpty else { return }
        for (key, peer) in deferredKeepalives where mesh.peers[key] != nil {
            do { try device.setPeer(peer) } catch { logger.warning("cannot enable keepalive for \(peer.publicKey): \(error)") }
        }
        deferredKeepalives.removeAll()
    }

    private func configurePeer(_ info: PeerInfo, path: DataPathMode, instance: UInt64) {
        guard let device, let link = links[instance] else { return }
        let endpoint: WireGuardEndpoint?
        switch path {
        case .direct(let address, let port):
            if let socket = link.bind(nil) { forwarding?.remove(socket) }
            endpoint = WireGuardEndpoint(address: address, port: port)
        case .forwarded:
            if let socket = link.forwardingSocket {
                endpoint = WireGuardEndpoint(address: "127.0.0.1", port: socket.port)
            } else {
                do {
                    let socket = try ForwardingSocket(wireGuardPort: device.listenPort)
                    _ = link.bind(socket)
                    forwarding?.add(socket, send: link.send)
                    endpoint = WireGuardEndpoint(address: "127.0.0.1", port: socket.port)
                } catch {
                    logger.error("cannot forward for \(info.name): \(error)")
                    return
                }
            }
        }
        guard let endpoint else {
            logger.error("peer \(info.name): unusable endpoint address for \(path)")
            return
        }
        var peer = WireGuardPeer(publicKey: info.publicKey, endpoint: endpoint,
                                 allowedIPs: ["\(info.ipv4)/32", "\(info.ipv6)/128"], persistentKeepalive: Self.keepaliveSeconds)
        // Turning keepalive on makes WireGuard send at once, which starts a handshake. If both sides did that at the
        // same moment, each would answer the other's initiation and reject the answer to its own (WireGuard's
        // handshake collision), and nothing would work until its 5-second retry. So only the controlling side starts
        // at once; the controlled side turns keepalive on 250 ms later, by which time the
        // controlling side's handshake has normally completed — or, if it was lost, this side's starts it.
        if mesh.peers[info.publicKey]?.controlling == false {
            if deferredKeepalives.isEmpty {
                Task { [post] in
                    try? await Task.sleep(for: Self.keepaliveDeferral)
                    post.yield(.deferredKeepalives)
                }
            }
            deferredKeepalives[info.publicKey] = peer
            peer.persistentKeepalive = nil
        }
        do {
            try device.setPeer(peer)
            logger.info("peer \(info.name): \(path == .forwarded ? "forwarded" : "direct") path via \(endpoint)")
        } catch {
            logger.error("cannot configure WireGuard peer \(info.name): \(error)")
        }
    }
}
