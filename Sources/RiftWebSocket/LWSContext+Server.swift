internal import CRiftWebSockets

extension LWSContext {
    /// A listening context for `loop`'s configuration, its callbacks going to `loop`.
    ///
    /// lws runs on a libev loop (epoll), so that a wake-up costs O(ready connections) — plain listeners only, see
    /// below for TLS. lws' own
    /// heartbeat (its per-connection validity timers, kept in one sorted list) is switched off:
    /// `ServerEventLoop+Heartbeats` pings and drops silent connections itself.
    static func server(for loop: ServerEventLoop, fileDescriptorLimit: Int) throws(WebSocketError) -> LWSContext {
        let configuration = loop.configuration
        let host = configuration.host ?? "*"
        let listening = host.contains(":") ? "[\(host)]:\(configuration.port)" : "\(host):\(configuration.port)"
        // A TLS listener stays on lws' own poll() loop. It was moved there when a fresh hub's first wss:// upgrade
        // sometimes went unanswered; the cause turned out to be the test client (Python's websockets sync client
        // reads and writes one TLS connection from two threads, and lost its request to the TLS 1.3 session tickets
        // the hub sent, see `CRiftWebSockets_issue_no_session_tickets`), not the loop. What still keeps TLS here:
        // lws 4.1.6's libev plugin serves TLS data already decrypted into OpenSSL's buffer (a record larger than
        // lws' 4 KiB read buffer) from an idle watcher that it stops after one pass, so the rest of such a message
        // could wait for the next event. Not measured yet; plain listeners, the usual setup behind a
        // TLS-terminating proxy, use libev.
        var eventLoop: EVLoop?
        if configuration.tls == nil {
            guard let created = EVLoop() else {
                throw WebSocketError("cannot listen for WebSockets on \(listening): libev could not create an event loop")
            }
            eventLoop = created
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
