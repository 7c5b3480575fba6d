import Logging
import RiftCrypto
import RiftProtocol
import RiftWireGuard

extension AgentCore {
    /// Applies one event from the inbox.
    func handle(_ event: RuntimeEvent) {
        timeline(event)
        switch event {
        case .hub(let hubEvent): handleHub(hubEvent)
        case .mesh(let meshEvent):
            perform(mesh.handle(meshEvent))
            publishStatus()
        case .tick:
            checkForResume()
            tick()
            inbox.post(.tick, at: now + Self.tickMilliseconds)
        case .enableKeepalive(let key): enableKeepalive(key)
        case .lingerOver(let instance, let token): lingerOver(instance: instance, token: token)
        case .underlay(let changes): underlayChanged(changes)
        case .stop(let reason):
            logger.info("stopping: \(reason)")
            stopped(reason)
        }
    }

    private func handleHub(_ event: SignalingEvent) {
        switch event {
        case .welcome(let welcome):
            hubState = .connected
            hubError = nil
            iceServers = welcome.ice
            if device == nil {
                do { try openDevice(welcome) } catch {
                    logger.critical("\(error)")
                    fail(error)
                    return
                }
            }
            let actions = mesh.handle(.hubWelcome(welcome))
            // Peers kept while absent (Mesh+AbsentPeers) keep their inbound rules, names and routes with their tunnel.
            var known = welcome
            known.peers += mesh.peers.values.filter { $0.absentFromHubSince != nil }.map(\.info)
                .sorted { $0.publicKey < $1.publicKey }
            environment.inboundFilter.welcome(known.peers)
            environment.hostNames.welcome(known)
            environment.routes.welcome(known)
            perform(actions)
            refreshRoutedPeers()
            serveNames()
        case .peerJoined(let peer):
            logger.info("peer \(peer.name) joined (\(peer.ipv4))")
            environment.inboundFilter.joined(peer)
            environment.hostNames.joined(peer)
            environment.routes.joined(peer)
            perform(mesh.handle(.peerJoined(peer)))
            refreshRoutedPeers()
            updateNames()
        case .peerLeft(let left):
            let known = mesh.peers[left.publicKey]
            let name = known.map { " (\($0.info.name))" } ?? ""
            perform(mesh.handle(.peerLeft(left.publicKey, reason: left.reason)))  // a removal forgets the peer
            if mesh.peers[left.publicKey] == nil {
                logger.info("peer \(left.publicKey) left\(name) (\(left.reason))")
                if known == nil { forget(left.publicKey) }  // a peer the mesh never had
            } else {
                logger.info("peer \(left.publicKey) left the hub\(name) (\(left.reason)); its tunnel still works and stays until it fails")
            }
        case .signal(let payload):
            perform(mesh.handle(.signal(payload)))
        case .iceServers(let ice):
            iceServers = ice
        case .disconnected(let reason, _):
            hubState = .disconnected
            hubError = reason
            perform(mesh.handle(.hubDisconnected))
        case .refused(let code, let message):
            logger.critical("the hub refused this agent (\(code)): \(message); not retrying")
            fail(.permanentRefusal(code: code, message: message))
        }
        publishStatus()
    }

    /// A peer is gone from the mesh: its inbound rules, host names and routes go with it, and the resolver's zone
    /// and routed peers follow. Safe to call twice.
    func forget(_ key: PublicKey) {
        environment.inboundFilter.left(key)
        environment.hostNames.left(key)
        environment.routes.left(key)
        refreshRoutedPeers()
        updateNames()
    }

    private func openDevice(_ welcome: Welcome) throws(AgentError) {
        var settings = InterfaceConfiguration(name: configuration.interface, privateKeyBase64: secrets.privateKey.base64)
        settings.listenPort = configuration.listenPort
        settings.ipv4 = welcome.me.ipv4
        settings.ipv4PrefixLength = welcome.ipv4Prefix.length
        settings.ipv6 = welcome.me.ipv6
        settings.ipv6PrefixLength = welcome.ipv6Prefix.length
        settings.mtu = configuration.mtu
        settings.wireguardGoPath = configuration.wireguardGo
        // WireGuard's own packets must bypass an exit node's policy routing (ExitRouting).
        if configuration.exitNode != nil { settings.fwmark = ExitRouting.fwmark }
        do {
            let opened = try environment.openDevice(settings)
            device = opened
            wireGuardPeers = [:]
            mesh.listenPort = opened.listenPort
            logger.info("\(opened.interfaceName) up: \(welcome.me.ipv4)/\(welcome.ipv4Prefix.length) \(welcome.me.ipv6)/\(welcome.ipv6Prefix.length), WireGuard port \(opened.listenPort)")
        } catch {
            throw AgentError.system("cannot bring up \(configuration.interface): \(error)")
        }
    }

    private func tick() {
        var ages: [PublicKey: Int64] = [:]
        var traffic: [PublicKey: TrafficCounters] = [:]
        if let status = try? device?.status() {
            let now = environment.clock.epochSeconds()
            for peer in status.peers {
                if let last = peer.lastHandshake { ages[peer.publicKey] = max(0, now - last) }
                traffic[peer.publicKey] = TrafficCounters(received: peer.rxBytes, sent: peer.txBytes)
            }
            lastDeviceStatus = status
        }
        let actions = mesh.handle(.tick(nowMilliseconds: now, handshakeAge: ages, traffic: traffic))
        perform(actions)
        ticksSinceStatus += 1
        if !actions.isEmpty || ticksSinceStatus >= Self.ticksPerStatus {
            ticksSinceStatus = 0
            publishStatus()
        }
    }
}
