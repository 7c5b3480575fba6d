import RiftSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks that configuration files can be read before libwebsockets tries, because lws only
/// logs a vague error when they cannot.
enum ReadableFile {
    /// Throws "cannot read <role> <path>: <system error>" unless `path` opens for reading.
    static func check(_ path: String, role: String) throws(WebSocketError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let error = errno
            throw WebSocketError("cannot read \(role) \(path): \(SystemCallError.reason(for: error))", code: error)
        }
        close(descriptor)
    }
}
