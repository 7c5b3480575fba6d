import Logging
import RiftProtocol

/// Roaming: the runtime's side of network changes and resumes (the peers' side is `Mesh.underlayChanged`). The
/// changes themselves come from `UnderlayMonitor`, which the real runtime starts and tests do without.
extension AgentCore {
    /// The underlay addresses now (the same list ICE gathers host candidates on).
    func currentUnderlayAddresses() -> Set<String> {
        Set(environment.localAddresses(configuration.interface, mesh.welcome?.ipv4Prefix))
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
        let gone = vanished.isEmpty ? "" : "gone \(vanished.sorted()) "
        let new = appeared.isEmpty ? "" : "new \(appeared.sorted()) "
        logger.info("network changed: \(gone)\(new)\(routeChanged ? "default route changed" : "")")
        if let reason = environment.transport.connectionLostToNetworkChange() {
            reconnectHub(because: reason)
        } else if !mesh.hubConnected, !current.isEmpty {
            environment.transport.reconnectNow(because: "network changed while the hub was unreachable")
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
        reconnectHub(because: reason)
        perform(mesh.handle(.resumed(reason: reason)))
        publishStatus()
    }

    /// Drops the hub connection for a new one now; the mesh holds its fresh starts until the next welcome.
    private func reconnectHub(because reason: String) {
        guard environment.transport.reconnectNow(because: reason) else { return }
        hubState = .reconnecting
        hubError = reason
        perform(mesh.handle(.hubDisconnected))
    }
}
