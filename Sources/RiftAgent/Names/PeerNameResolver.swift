import Glibc
import Logging
import RiftDNS
import RiftSupport

/// The real `PeerNameService`: a `DNSServer` on the agent's overlay addresses, port 53.
///
/// Bound with `IP_FREEBIND`, so it does not matter whether the WireGuard interface already carries its addresses. A
/// port that is taken (another resolver listens on every address) is a warning, not a failure: the agent works without
/// names, and tries again at the next welcome.
final class PeerNameResolver: PeerNameService {
    private struct State {
        var server: DNSServer?
        var addresses: [String] = []
    }

    private let state = Locked(State())
    private let port: UInt16
    private let logger: Logger

    init(port: UInt16 = 53, logger: Logger) {
        self.port = port
        self.logger = logger
    }

    func serve(_ zone: DNSZone, on addresses: [String]) {
        state.withLock { state in
            if let server = state.server, state.addresses == addresses {
                server.update(zone)
                return
            }
            state.server?.shutdown()
            state.server = nil
            do {
                state.server = try DNSServer(bindAddresses: addresses, port: port, zone: zone, logger: logger)
            } catch {
                // A host without IPv6 (ipv6.disable=1) still gets names over IPv4.
                if addresses.count > 1, let first = addresses.first,
                   let server = try? DNSServer(bindAddresses: [first], port: port, zone: zone, logger: logger) {
                    logger.warning("DNS for *.\(zone.domain) on IPv4 only: \(error)")
                    state.server = server
                } else {
                    let hint = (error as? DNSError)?.systemError?.code == EACCES
                        ? " (port 53 needs CAP_NET_BIND_SERVICE: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE in the unit)" : ""
                    logger.warning("no DNS for *.\(zone.domain): \(error)\(hint); peers stay reachable by address")
                }
            }
            state.addresses = addresses
            if let server = state.server {
                logger.info("answering DNS for *.\(zone.domain) on \(server.listening.joined(separator: " "))")
            }
        }
    }

    func update(_ zone: DNSZone) {
        state.withLock { $0.server?.update(zone) }
    }

    func stop() {
        state.withLock { state in
            state.server?.shutdown()
            state.server = nil
        }
    }

    var listening: [String] { state.withLock { $0.server?.listening ?? [] } }
}
