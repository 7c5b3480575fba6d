#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Explains why a host could not be connected to when libwebsockets does not say: it resolves
/// the name itself and reports the resolver's error.
enum HostNameResolution {
    /// The resolver's error for `host` ("Name or service not known"), or nil when it resolves.
    /// Blocks for the lookup: call only on a client's service thread, after lws failed.
    static func failure(for host: String) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &results)
        if let results { freeaddrinfo(results) }
        guard status != 0 else { return nil }
        return String(cString: gai_strerror(status))
    }
}
