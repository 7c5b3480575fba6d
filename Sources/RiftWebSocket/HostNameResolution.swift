import RiftSupport
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
        do {
            _ = try SystemCall.resolve(host, port: nil, type: .stream)
            return nil
        } catch {
            return error.description
        }
    }
}
