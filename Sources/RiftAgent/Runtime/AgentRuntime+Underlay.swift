import Foundation
import RiftProtocol

/// Roaming: the runtime's side of network changes and resumes (the peers' side is `Mesh.underlayChanged`).
extension AgentRuntime {
    /// Starts watching the underlay; a host where rtnetlink cannot be watched still runs, recovering by timeouts only.
    func startWatchingUnderlay() {
        _ = resumeDetector.observe(ResumeDetector.bootClock())  // a stop before the first tick counts too
        knownAddresses = currentUnderlayAddresses()
        let relevance = UnderlayRelevance(
            ownInterface: configuration.interface, overlay: mesh.welcome?.ipv4Prefix,
            interfaceName: UnderlayRelevance.kernelInterfaceName,
            isTunnel: LocalAddresses.isTunnel)
        do {
            underlay = try UnderlayMonitor(relevance: relevance) { [post] changes in post.yield(.underlay(changes)) }
        } catch {
            logger.warning("\(error); network changes will be noticed by timeouts only")
        }
    }

    /// A debounced batch of underlay changes: reconnect the hub if its connection lost its address or route, and start
    /// afresh with the peers whose paths the change may have broken.
    func underlayChanged(_ changes: [UnderlayChange]) {
        let current = currentUnderlayAddresses()
        let vanished = knownAddresses.subtracting(current)
        let appeared = current.subtracting(knownAddresses)
        knownAddresses = current
        let routeChanged = changes.contains {
            if case .route(_, true, _) = $0 { return true }
            return $0 == .lostNotifications
        }
        guard !vanished.isEmpty || !appeared.isEmpty || routeChanged else { return }
        logger.info("network changed: \(vanished.isEmpty ? "" : "gone \(vanished.sorted()) ")\(appeared.isEmpty ? "" : "new \(appeared.sorted()) ")\(routeChanged ? "default route changed" : "")")
        if let reason = hubConnectionLost() {
            if hub.reconnectNow(because: reason) {
                hubState = "reconnecting"
                hubError = reason
                perform(mesh.handle(.hubDisconnected))
            }
        } else if mesh.hubConnected == false, !current.isEmpty {
            hub.reconnectNow(because: "network changed while the hub was unreachable")
        }
        perform(mesh.handle(.underlayChanged(vanished: vanished, appeared: appeared, routeChanged: routeChanged)))
        publishStatus()
    }

    /// Called every tick: a long gap in the boot-time clock means the machine slept (or the process was stopped);
    /// every path and the hub session may be stale.
    func checkForResume() {
        guard let gap = resumeDetector.observe(ResumeDetector.bootClock()) else { return }
        let reason = "resumed after \(gap.components.seconds) s away"
        logger.info("\(reason): reconnecting to the hub and revalidating every path")
        knownAddresses = currentUnderlayAddresses()
        if hub.reconnectNow(because: reason) {
            hubState = "reconnecting"
            hubError = reason
            perform(mesh.handle(.hubDisconnected))
        }
        perform(mesh.handle(.resumed(reason: reason)))
        publishStatus()
    }

    /// Why the hub connection cannot be trusted any more: its local address is gone, or the route to the hub now
    /// leaves from another address. Nil when it is fine, or when there is no connection to judge.
    private func hubConnectionLost() -> String? {
        guard let endpoints = hub.endpoints else { return nil }
        if !RouteProbe.hostAddresses().contains(endpoints.localAddress) {
            return "the hub connection's address \(endpoints.localAddress) is gone"
        }
        let source = RouteProbe.sourceAddress(toward: endpoints.remoteAddress)
        if source != endpoints.localAddress {
            return "the route to the hub now leaves from \(source ?? "nowhere"), not \(endpoints.localAddress)"
        }
        return nil
    }

    private func currentUnderlayAddresses() -> Set<String> {
        Set(LocalAddresses.forICE(excludingInterface: configuration.interface, overlay: mesh.welcome?.ipv4Prefix))
    }
}
