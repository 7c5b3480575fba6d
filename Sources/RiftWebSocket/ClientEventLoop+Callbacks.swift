internal import CRiftWebSockets

/// The lws protocol callback of every client context. lws calls it on the service thread; the
/// context's user pointer is the `ClientEventLoop` (kept alive by `LWSContext`).
func clientProtocolCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let owner = lws_context_user(context) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    let loop = Unmanaged<ClientEventLoop>.fromOpaque(owner).takeUnretainedValue()
    switch reason {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        loop.drainInbox()
        return 0
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        guard let input else { return -1 }
        return loop.appendHeaders(wsi, cursor: input.assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self), space: length)
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        loop.opened(wsi)
        return 0
    case LWS_CALLBACK_CLIENT_RECEIVE:
        loop.received(wsi, UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length))
        return 0
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        guard loop.phase == .open else { return 0 }
        let result = loop.writer.flush(&loop.outbound, thenClose: loop.pendingClose, on: wsi)
        if case .close = result { loop.sentClose = loop.pendingClose }
        return result.callbackResult
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        let payload = UnsafeRawBufferPointer(start: input, count: input == nil ? 0 : length)
        loop.receivedClose = CloseFrame(payload: payload) ?? CloseFrame(code: 1005, reason: "")
        return 0
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        let message = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
        loop.finish(code: nil, reason: loop.describeConnectionFailure(message, status: lws_http_client_http_response(wsi)))
        return 0
    case LWS_CALLBACK_CLIENT_CLOSED:
        loop.closed()
        return 0
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP, LWS_CALLBACK_WSI_DESTROY:
        if wsi == loop.wsi || loop.phase == .connecting && reason == LWS_CALLBACK_CLOSED_CLIENT_HTTP {
            loop.closed()
        }
        return 0
    default:
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
}

extension ClientEventLoop {
    /// Starts the connection attempt described by the configuration.
    func startConnecting(in context: OpaquePointer) {
        let memory = connectionMemory
        let policy = memory.zeroed(lws_retry_bo_t.self)
        heartbeat.write(to: policy)
        heartbeatPolicy = policy
        let slot = memory.zeroed(OpaquePointer?.self)

        var info = lws_client_connect_info()
        info.context = context
        info.address = UnsafePointer(memory.string(configuration.connectAddress ?? url.host))
        info.port = Int32(url.port)
        info.ssl_connection = url.isSecure ? Int32(LCCSCF_USE_SSL.rawValue) : 0
        info.path = UnsafePointer(memory.string(url.path))
        info.host = UnsafePointer(memory.string(url.hostHeader))
        info.protocol = UnsafePointer(memory.string(configuration.subprotocol))
        info.local_protocol_name = UnsafePointer(memory.string(Self.protocolName))
        info.alpn = UnsafePointer(memory.string("http/1.1"))
        info.retry_and_idle_policy = UnsafePointer(policy)
        info.pwsi = slot
        let created = lws_client_connect_via_info(&info)
        wsi = created ?? slot.pointee
        if created == nil {
            // lws fails here synchronously when the name does not resolve, without saying so.
            if let resolverError = HostNameResolution.failure(for: url.host) {
                finish(code: nil, reason: "cannot resolve the host name \(url.host): \(resolverError)")
            } else {
                finish(code: nil, reason: "cannot start a connection to \(target)")
            }
        }
    }

    /// Adds the configured headers to the upgrade request; -1 (fail) when they do not fit.
    func appendHeaders(_ wsi: OpaquePointer, cursor: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, space: Int) -> Int32 {
        guard let start = cursor.pointee else { return -1 }
        let end = start + space
        for header in configuration.headers {
            let added = lws_add_http_header_by_name(
                wsi, header.name + ":", header.value, Int32(header.value.utf8.count), cursor, end)
            if added != 0 {
                finish(code: nil, reason: "the request headers for \(target) do not fit in the handshake buffer")
                return -1
            }
        }
        return 0
    }

    /// A piece of a message arrived; whole messages become `.text` events.
    func received(_ wsi: OpaquePointer, _ bytes: UnsafeRawBufferPointer) {
        lws_validity_confirmed(wsi)
        guard phase == .open, pendingClose == nil else { return }
        let outcome = inbound.receive(
            bytes, isFinal: lws_is_final_fragment(wsi) != 0, isBinary: lws_frame_is_binary(wsi) != 0,
            remainingInFrame: Int(lws_remaining_packet_payload(wsi)))
        switch outcome {
        case .incomplete: break
        case .message(let text): deliver(text)
        case .oversized: beginClose(CloseFrame(code: 1009, reason: "message too big"))
        case .binary: beginClose(CloseFrame(code: 1003, reason: "binary messages are not supported"))
        case .tooFragmented: beginClose(CloseFrame(code: 1008, reason: "message in too many fragments"))
        }
    }

    /// The connection closed after it was open (or lws gave up on it without an error report).
    func closed() {
        if let frame = receivedClose ?? sentClose {
            finish(code: frame.code == 1005 ? nil : frame.code, reason: frame.reason)
        } else if phase == .connecting {
            finish(code: nil, reason: "the connection to \(target) closed during the handshake")
        } else {
            finish(code: nil, reason: "the connection to \(target) was lost (no close frame; network failure or heartbeat timeout)")
        }
    }

    /// Turns lws' connection error text, the HTTP status and what lws logged on this thread
    /// into a sentence for people.
    func describeConnectionFailure(_ message: String?, status: UInt32) -> String {
        if status >= 300 {
            return "the server at \(target) answered the WebSocket upgrade with HTTP \(status)\(HTTPStatusText.suffix(for: status))"
        }
        if let verification = LibraryLogExplanation.certificateVerificationError(LibraryLog.capturedLines()) {
            return "TLS certificate verification failed for \(target): \(verification)"
        }
        let detail = message ?? "no detail"
        if detail == "Unable to connect" {
            // lws does not keep the connect errno; refused and unreachable look the same here.
            return "cannot connect to \(target): connection refused or host unreachable"
        }
        if detail.lowercased().contains("ssl") || detail.lowercased().contains("tls") {
            return "TLS handshake with \(target) failed: \(detail)"
        }
        return "cannot connect to \(target): \(detail)"
    }

    /// The name of the clients' lws protocol entry.
    static let protocolName = "riftgate-client"
}
