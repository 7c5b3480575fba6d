import RiftNice
import RiftProtocol
import RiftSupport
import RiftTURN
#if canImport(Glibc)
import Glibc
#endif

/// Turns the hub's STUN/TURN URIs into the numeric addresses libnice needs.
enum ICEServerList {
    /// A `stun:` or `turn:` URI (`ICEServerURI`: UDP, or TCP for `turn:…?transport=tcp`); nil for anything else
    /// (`turns:`, whose TLS this agent does not use, and any other transport).
    static func parse(_ text: String) -> ICEServerURI? {
        guard let uri = ICEServerURI(text), uri.scheme != .turns else { return nil }
        return uri
    }

    /// Resolves a host name to one numeric address (IPv4 preferred); nil if it does not resolve.
    static func resolve(_ host: String) -> String? {
        let candidates = resolveAll(host)
        return candidates.first { IPv4Address($0) != nil } ?? candidates.first
    }

    /// Every numeric address a host name resolves to (the name itself when numeric), in resolver order.
    static func resolveAll(_ host: String) -> [String] {
        if IPv4Address(host) != nil || IPv6Address(host) != nil { return [host] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var candidates: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr,
               let name = SystemCall.numericAddress(address, length: current.pointee.ai_addrlen) {
                candidates.append(name.host)
            }
            entry = current.pointee.ai_next
        }
        return candidates
    }

    /// The libnice server configuration for the hub's ICE servers and a generation's candidate `scope`: without the
    /// TURN servers for `.withoutOwnRelay` (no relayed candidate is gathered then); relay-only for `.relayOnly` when a
    /// TURN server is known (without one it gathers everything: a relay-only session with no relay finds nothing).
    /// Of each credential set's URIs, the first over UDP and the first over TCP are used (one allocation each; ICE
    /// prefers the relayed candidate reached over UDP when both work, and the TCP one carries a network that lets out
    /// no UDP).
    static func configuration(for ice: ICEServers, scope: ICECandidateScope) -> ICEServerConfiguration {
        let includeTURN = scope != .withoutOwnRelay
        var servers = ICEServerConfiguration()
        if let stun = ice.stun.lazy.compactMap(parse).first, let address = resolve(stun.host) {
            servers.stun = (host: address, port: stun.port)
        }
        for turn in ice.turn where includeTURN {
            for transport in ICERelayTransport.allCases {
                for uri in turn.urls.compactMap(parse)
                where uri.scheme == .turn && ICERelayTransport(rawValue: uri.transport.rawValue) == transport {
                    guard let address = resolve(uri.host) else { continue }
                    servers.turn.append((host: address, port: uri.port, username: turn.username,
                                         password: turn.credential, transport: transport))
                    break
                }
            }
        }
        servers.forceRelay = scope == .relayOnly && !servers.turn.isEmpty
        return servers
    }
}
