internal import CRiftWebSockets

extension LWSContext {
    /// A context for one outgoing connection of `loop`, its callbacks going to `loop`.
    ///
    /// With `caFile`, only that file's CAs are trusted (the system store is not loaded);
    /// without it, the system store is. lws checks the host name (or IP address) either way.
    static func client(for loop: ClientEventLoop) throws(WebSocketError) -> LWSContext {
        let configuration = loop.configuration
        if let caFile = configuration.caFile {
            try ReadableFile.check(caFile, role: "CA file")
        }
        return try LWSContext(owner: loop, failure: "cannot prepare a WebSocket client for \(loop.target)") { info, memory in
            let protocols = memory.zeroed(lws_protocols.self, count: 2)  // second entry: terminator
            protocols[0].name = UnsafePointer(memory.string(ClientEventLoop.protocolName))
            protocols[0].callback = clientProtocolCallback
            protocols[0].rx_buffer_size = 4_096
            info.protocols = UnsafePointer(protocols)
            info.port = CONTEXT_PORT_NO_LISTEN
            // One connection: small lookup tables instead of ones sized for the process' fd limit.
            info.fd_limit_per_thread = 16
            info.timeout_secs = UInt32(configuration.connectTimeout.wholeSecondsRoundedUp)
            info.connect_timeout_secs = UInt32(configuration.connectTimeout.wholeSecondsRoundedUp)
            var options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8)
            if loop.url.isSecure {
                options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
                if let caFile = configuration.caFile {
                    options |= UInt64(LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS)
                    info.client_ssl_ca_filepath = UnsafePointer(memory.string(caFile))
                }
            }
            info.options = options
        }
    }
}
