internal import CRiftNice

/// Turns the configured server names into the numeric addresses libnice requires (its `stun-server` property
/// and `nice_agent_set_relay_info` take IP addresses only).
enum ServerAddressResolver {
    /// The servers of one session, with numeric addresses.
    struct Resolved: Sendable {
        var stun: (address: String, port: UInt16)?
        var turn: [(address: String, port: UInt16, username: String, password: String, transport: ICERelayTransport)]
    }

    /// Resolves every server in `servers`. Blocks the calling thread while names are looked up; numeric
    /// addresses return at once. Throws `serverResolutionFailed` naming the host that did not resolve.
    static func resolve(_ servers: ICEServerConfiguration) throws(ICEError) -> Resolved {
        var resolved = Resolved(stun: nil, turn: [])
        if let stun = servers.stun {
            resolved.stun = (try numericAddress(of: stun.host), stun.port)
        }
        for server in servers.turn {
            resolved.turn.append((try numericAddress(of: server.host), server.port, server.username, server.password,
                                  server.transport))
        }
        return resolved
    }

    /// Returns `host` itself when it is an IP address, otherwise the first IPv4 address GLib's resolver
    /// (`g_resolver_lookup_by_name`) finds, or the first IPv6 one when there is no IPv4 address.
    static func numericAddress(of host: String) throws(ICEError) -> String {
        if isNumeric(host) { return host }
        guard !host.isEmpty, host.utf8.count <= 253 else {
            throw ICEError(.invalidConfiguration, "server host name must be 1 to 253 bytes")
        }
        let resolver = g_resolver_get_default()
        defer { g_object_unref(resolver) }
        var error: UnsafeMutablePointer<GError>?
        guard let list = g_resolver_lookup_by_name(resolver, host, nil, &error) else {
            let code = error?.pointee.code ?? 0
            let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "no address"
            if let error { g_error_free(error) }
            throw ICEError(.serverResolutionFailed, "\(host): \(message)", cErrorCode: code)
        }
        defer { g_resolver_free_addresses(list) }
        var firstIPv4: String?
        var firstIPv6: String?
        var node: UnsafeMutablePointer<GList>? = list
        while let current = node, firstIPv4 == nil {
            if let data = current.pointee.data {
                let address = data.assumingMemoryBound(to: GInetAddress.self)
                if let text = g_inet_address_to_string(address) {
                    defer { g_free(text) }
                    if g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4 {
                        firstIPv4 = String(cString: text)
                    } else if firstIPv6 == nil {
                        firstIPv6 = String(cString: text)
                    }
                }
            }
            node = current.pointee.next
        }
        guard let address = firstIPv4 ?? firstIPv6 else {
            throw ICEError(.serverResolutionFailed, "\(host): no IPv4 or IPv6 address")
        }
        return address
    }

    /// Whether `text` is a numeric IPv4 or IPv6 address (`g_hostname_is_ip_address`).
    static func isNumeric(_ text: String) -> Bool {
        !text.isEmpty && g_hostname_is_ip_address(text) != 0
    }
}
