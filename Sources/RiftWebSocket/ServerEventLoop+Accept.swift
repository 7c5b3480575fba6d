internal import CRiftWebSockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `AcceptGuard` on lws' callbacks: every socket is judged as lws accepts it (LWS_CALLBACK_FILTER_NETWORK_CONNECTION,
/// before lws allocates anything for it), leaves the pending count when its WebSocket upgrade completes, and is
/// forgotten when lws destroys it.
extension ServerEventLoop {
    /// A socket was accepted; `arguments` is lws' `struct lws_filter_network_conn_args`. Nonzero makes lws close it.
    func filterAccepted(_ arguments: UnsafeMutableRawPointer?) -> Int32 {
        guard let arguments else { return 0 }
        let filter = arguments.assumingMemoryBound(to: lws_filter_network_conn_args.self)
        let address = Self.clientAddressKey(&filter.pointee.cli_addr)
        guard let refusal = acceptGuard.admit(descriptor: Int32(filter.pointee.accept_fd), from: address) else { return 0 }
        handler?.connectionRefused(refusal)
        return 1
    }

    /// lws made a connection of an admitted socket (LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED).
    func acceptedSocketInstantiated(_ wsi: OpaquePointer) {
        acceptedDescriptors[wsi] = lws_get_socket_fd(wsi)
    }

    /// The connection finished its WebSocket upgrade (LWS_CALLBACK_ESTABLISHED).
    func acceptedSocketUpgraded(_ wsi: OpaquePointer) {
        guard let descriptor = acceptedDescriptors[wsi] else { return }
        acceptGuard.upgraded(descriptor: descriptor)
    }

    /// lws destroyed the connection (LWS_CALLBACK_WSI_DESTROY), its socket already closed.
    func acceptedSocketDestroyed(_ wsi: OpaquePointer) {
        guard let descriptor = acceptedDescriptors.removeValue(forKey: wsi) else { return }
        acceptGuard.closed(descriptor: descriptor)
        stopWatching(descriptor, of: wsi)
    }

    /// The client's address from an accepted socket's `sockaddr_storage`; nil for a family other than IPv4 and IPv6.
    private static func clientAddressKey(_ storage: UnsafeMutablePointer<sockaddr_storage>) -> ClientAddressKey? {
        let raw = UnsafeMutableRawPointer(storage)
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            var address = raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr
            return withUnsafeBytes(of: &address) { ClientAddressKey(addressBytes: $0) }
        case AF_INET6:
            var address = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
            return withUnsafeBytes(of: &address) { ClientAddressKey(addressBytes: $0) }
        default:
            return nil
        }
    }
}
