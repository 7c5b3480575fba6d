import RiftNice
import RiftProtocol
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// Turns the hub's STUN/TURN URIs into the numeric addresses libnice needs.
enum ICEServerList {
    /// A parsed `stun:` or `turn:` URI (RFC 7064/7065): UDP, or TCP for `turn:…?transport=tcp`.
    struct URI: Equatable {
        var scheme: String
        var host: String
        var port: UInt16
        var transport: ICERelayTransport = .udp
    }

    /// Parses `stun:host[:port]` or `turn:host[:port][?transport=udp|tcp]`; nil for anything else (`turns:`, whose
    /// TLS this agent does not use, and any other transport).
    static func parse(_ text: String) -> URI? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = String(text[..<colon])
        guard scheme == "stun" || scheme == "turn" else { return nil }
        var rest = Substring(text[text.index(after: colon)...])
        var transport = ICERelayTransport.udp
        if let query = rest.firstIndex(of: "?") {
            for parameter in rest[rest.index(after: query)...].split(separator: "&") where parameter.hasPrefix("transport=") {
                switch parameter.dropFirst("transport=".count).lowercased() {
                case "udp": transport = .udp
                case "tcp" where scheme == "turn": transport = .tcp
                default: return nil
                }
            }
            rest = rest[..<query]
        }
        var host = rest
        var port: UInt16 = 3478
        if rest.hasPrefix("[") {  // [v6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { guard let value = UInt16(after.dropFirst()) else { return nil }; port = value }
        } else if let last = rest.lastIndex(of: ":") {
            host = rest[..<last]
            guard let value = UInt16(rest[rest.index(after: last)...]) else { return nil }
            port = value
        }
        guard !host.isEmpty, port > 0 else { return nil }
        return URI(scheme: scheme, host: String(host), port: port, transport: transport)
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
                for uri in turn.urls.compactMap(parse) where uri.scheme == "turn" && uri.transport == transport {
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
