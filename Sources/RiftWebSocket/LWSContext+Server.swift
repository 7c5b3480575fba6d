internal import CRiftWebSockets

extension LWSContext {
    /// A listening context for `loop`'s configuration, its callbacks going to `loop`.
    ///
    /// lws runs on a libev loop (epoll), `ws://` and `wss://` alike, so that a wake-up costs O(ready connections).
    /// lws' own heartbeat (its per-connection validity timers, kept in one sorted list) is switched off:
    /// `ServerEventLoop+Heartbeats` pings and drops silent connections itself.
    static func server(for loop: ServerEventLoop, fileDescriptorLimit: Int) throws(WebSocketError) -> LWSContext {
        let configuration = loop.configuration
        let host = configuration.host ?? "*"
        let listening = host.contains(":") ? "[\(host)]:\(configuration.port)" : "\(host):\(configuration.port)"
        // TLS data already decrypted into OpenSSL's buffer makes no socket event. lws 4.1.6 still serves it on libev:
        // a WebSocket connection's read (`rops_handle_POLLIN_ws`) goes on reading while `SSL_pending` says there is
        // more, so a whole TLS record is consumed in one callback however small the read buffer; what is left for the
        // other roles (a record larger than the buffer during the HTTP upgrade) is served by the plugin's idle
        // watcher, which stays on while any connection has such data (`lws_ev_idle_cb` keeps it when its forced pass
        // found one). Checked by Tests/integration/test_hub_tls_large_messages.py (messages whose last TLS record is
        // nearly full, on an idle hub; it fails with `SSL_pending` forced to 0, on this loop and on poll()). TLS used
        // to stay on lws' poll() loop because a fresh hub's first wss:// upgrade sometimes went unanswered there; the
        // cause was the test client and the session tickets the hub sent (`CRiftWebSockets_issue_no_session_tickets`),
        // not the loop.
        guard let eventLoop = EVLoop() else {
            throw WebSocketError("cannot listen for WebSockets on \(listening): libev could not create an event loop")
        }
        return try LWSContext(owner: loop, failure: "cannot listen for WebSockets on \(listening)",
                              eventLoop: eventLoop) { info, memory in
            let protocols = memory.zeroed(lws_protocols.self, count: 2)  // second entry: terminator
            protocols[0].name = UnsafePointer(memory.string(configuration.subprotocol ?? "riftgate"))
            protocols[0].callback = serverProtocolCallback
            protocols[0].rx_buffer_size = configuration.receiveBufferBytes
            info.protocols = UnsafePointer(protocols)

            // All zero: no validity timers (lws' default policy would ping after 300 s and arm one per connection).
            let policy = memory.zeroed(lws_retry_bo_t.self)
            info.retry_and_idle_policy = UnsafePointer(policy)

            info.port = Int32(configuration.port)
            info.iface = UnsafePointer(memory.string(configuration.host))
            info.vhost_name = UnsafePointer(memory.string("default"))
            info.server_string = UnsafePointer(memory.string("riftgate"))
            // HTTP/1.1 only: WebSockets over HTTP/2 would need RFC 8441 on every client.
            info.alpn = UnsafePointer(memory.string("http/1.1"))
            info.fd_limit_per_thread = UInt32(fileDescriptorLimit)
            var options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8) | UInt64(LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND)
            if let host = configuration.host, host.isIPv4Literal {
                options |= UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
            }
            if let tls = configuration.tls {
                options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
                info.ssl_cert_filepath = UnsafePointer(memory.string(tls.certificatePath))
                info.ssl_private_key_filepath = UnsafePointer(memory.string(tls.privateKeyPath))
            }
            info.options = options
        }
    }
}

extension String {
    /// True for dotted-quad IPv4 addresses such as `127.0.0.1`.
    var isIPv4Literal: Bool {
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                && Int(part).map { $0 <= 255 } == true
        }
    }
}
