import RiftProtocol
import RiftSupport

/// The addresses of a hub's host name, for `HubLink` to try one by one.
///
/// libwebsockets 4.1.6 resolves a name itself and moves to the next address when a connect fails at once (refused,
/// unreachable), but an address that swallows the connection attempt ends the whole attempt at the connect timeout
/// (its per-connection timeout fires before its per-address one): the addresses after it are never tried. So when a
/// name has several addresses the agent resolves it and hands lws one address at a time, keeping the name for the
/// Host header, the TLS server name and the certificate check.
enum HubAddresses {
    /// Every address `hubURL`'s host resolves to, in the resolver's order; empty when the host is numeric, has a single
    /// address or does not resolve (the client then resolves it, and reports a name that does not resolve). The lookup
    /// blocks, so it runs on a thread of its own, never on Swift's cooperative pool.
    static func resolve(_ hubURL: String) async -> [String] {
        guard let host = ICEServerList.hubHost(hubURL), IPv4Address(host) == nil, IPv6Address(host) == nil else { return [] }
        let addresses: [String] = await withCheckedContinuation { done in
            do {
                try JoinableThread.spawn(name: "riftgate-resolve") {
                    done.resume(returning: ICEServerList.resolveAll(host))
                }.detach()
            } catch {
                done.resume(returning: [])
            }
        }
        return addresses.count > 1 ? addresses : []
    }

    /// `addresses` starting from `preferred` (the one that last worked), in their order otherwise.
    static func ordered(_ addresses: [String], startingAt preferred: String?) -> [String] {
        guard let preferred, let index = addresses.firstIndex(of: preferred) else { return addresses }
        return Array(addresses[index...] + addresses[..<index])
    }
}
