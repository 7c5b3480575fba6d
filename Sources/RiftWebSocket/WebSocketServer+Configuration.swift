extension WebSocketServer {
    /// How a `WebSocketServer` listens, what it accepts and how it bounds memory per connection.
    ///
    /// Invalid values (non-positive limits, a pong timeout not longer than the ping interval)
    /// make `WebSocketServer.init` throw.
    public struct Configuration: Sendable {
        /// The address to listen on (an IPv4 or IPv6 literal, or an interface name);
        /// nil listens on all interfaces, IPv4 and IPv6.
        public var host: String? = nil
        /// The TCP port; 0 picks a free one (read `WebSocketServer.boundPort` after `start()`).
        public var port: UInt16 = 0
        /// Certificate and key for `wss://`; nil serves plain `ws://` (for use behind a TLS proxy).
        public var tls: TLSFiles? = nil
        /// The WebSocket subprotocol the server speaks. Clients that ask for another one are
        /// refused; clients that ask for none are accepted either way.
        public var subprotocol: String? = nil
        /// The largest message accepted from a client, all fragments together.
        public var maximumMessageBytes = 65_536
        /// The most frames one message may come in (a frame split over several reads counts once); more closes the
        /// connection with 1008.
        public var maximumFragmentsPerMessage = 256
        /// Frames (every data frame, empty continuations included, and with a `frameStreamWatcher` every control frame)
        /// a client may send at once, and per second sustained; beyond, the connection is closed with 1008. Message
        /// rate limits count whole messages only.
        public var frameBurst = 4_000
        public var framesPerSecond = 1_000
        /// How long a connection may be silent before the server sends a ping
        /// (libwebsockets counts in whole seconds; shorter values round up).
        public var pingInterval: Duration = .seconds(20)
        /// A connection with no pong and no other traffic for this long is dropped and the
        /// handler told (whole seconds, rounded up).
        public var pongTimeout: Duration = .seconds(60)
        /// How often `WebSocketServerHandler.tick()` is called.
        public var tickInterval: Duration = .seconds(1)
        /// The most messages waiting to be written to one connection before it is closed with 1008.
        public var maximumQueuedMessagesPerConnection = 1_024
        /// The most bytes waiting to be written to one connection before it is closed with 1008.
        public var maximumQueuedBytesPerConnection = 1 << 20
        /// How long a connection being closed may take to flush its queue and finish the close
        /// handshake before it is dropped (whole seconds, rounded up).
        public var closeTimeout: Duration = .seconds(5)
        /// The per-connection receive buffer libwebsockets allocates when a connection upgrades.
        /// Small keeps idle connections cheap; messages longer than this are reassembled.
        public var receiveBufferBytes = 2_048
        /// Fair share of the service thread between groups of connections (those that upgraded on the same path): each
        /// group may start writing to at most this many connections per pass of the service loop; more wait for later
        /// passes, so a broadcast to a large group cannot hold up a frame of another group for its whole fan-out
        /// (`FairWriteScheduler`). 0: no limit.
        public var writesPerGroupPerPass = 0
        /// The read side of that share: each group may hand at most this many events (a connection opened, a message,
        /// a connection closed) to the handler per pass; later ones wait, in order, for later passes
        /// (`FairEventScheduler`). 0: no limit.
        public var eventsPerGroupPerPass = 0
        /// Checks that clients mask their frames (RFC 6455 §5.1): a connection whose client sent an unmasked frame is
        /// closed with 1002 and none of its later input reaches the handler; and counts their control frames, charged
        /// to the frame budget (`frameBurst`, `framesPerSecond`). nil (the default) accepts unmasked frames, as
        /// libwebsockets 4.1 does, and leaves control frames uncounted (`FrameStreamWatcher`).
        public var frameStreamWatcher: (any FrameStreamWatcher)? = nil
        /// The most connections from one client address (an IPv4 address, or an IPv6 /64) that may be waiting for
        /// their WebSocket upgrade at once (TCP or TLS handshake, the upgrade request); more are closed as soon as they
        /// are accepted (`AcceptGuard`). `pendingLimitExemptAddresses`, and loopback unless
        /// `pendingLimitExemptsLoopback` is false, are not limited. 0: no limit.
        public var maximumPendingConnectionsPerAddress = 0
        /// Whether loopback clients (127.0.0.0/8, ::1) are left out of `maximumPendingConnectionsPerAddress`: a local
        /// TLS proxy or load generator carries many clients from there.
        public var pendingLimitExemptsLoopback = true
        /// Addresses `maximumPendingConnectionsPerAddress` does not apply to (IPv4 or IPv6 literals): reverse proxies
        /// that carry many clients' connections.
        public var pendingLimitExemptAddresses: [String] = []
        /// Times every pass of the service loop and the event wait between passes, and keeps what ran in the slow ones
        /// (`WebSocketServer.servicePassStatistics`). Costs four clock reads and one uncontended lock per pass.
        public var recordsServicePasses = false

        /// The defaults: all interfaces, an ephemeral port, plain `ws://`.
        public init() {}

        /// Throws when a value cannot work, naming the field.
        func validate() throws(WebSocketError) {
            func require(_ condition: Bool, _ reason: String) throws(WebSocketError) {
                if !condition { throw WebSocketError("invalid WebSocket server configuration: \(reason)") }
            }
            try require(maximumMessageBytes > 0, "maximumMessageBytes must be positive")
            try require(maximumFragmentsPerMessage > 0, "maximumFragmentsPerMessage must be positive")
            try require(frameBurst > 0 && framesPerSecond > 0, "frameBurst and framesPerSecond must be positive")
            try require(maximumQueuedMessagesPerConnection > 0, "maximumQueuedMessagesPerConnection must be positive")
            try require(maximumQueuedBytesPerConnection > 0, "maximumQueuedBytesPerConnection must be positive")
            try require(receiveBufferBytes >= 128 && receiveBufferBytes <= 1 << 20,
                        "receiveBufferBytes must be between 128 and 1 MiB")
            try require(tickInterval > .zero, "tickInterval must be positive")
            try require(closeTimeout > .zero, "closeTimeout must be positive")
            try require(writesPerGroupPerPass >= 0, "writesPerGroupPerPass must not be negative")
            try require(eventsPerGroupPerPass >= 0, "eventsPerGroupPerPass must not be negative")
            try require(maximumPendingConnectionsPerAddress >= 0, "maximumPendingConnectionsPerAddress must not be negative")
            for address in pendingLimitExemptAddresses {
                try require(ClientAddressKey(address) != nil, "pendingLimitExemptAddresses: \(address) is not an IP address")
            }
            try require(pingInterval > .zero, "pingInterval must be positive")
            try require(pongTimeout.wholeSecondsRoundedUp > pingInterval.wholeSecondsRoundedUp,
                        "pongTimeout must be longer than pingInterval (in whole seconds)")
            try require(pongTimeout.wholeSecondsRoundedUp <= Int(UInt16.max), "pongTimeout is too long")
            if let host { try require(!host.isEmpty && !host.contains("\0"), "host must be a non-empty address") }
            if let subprotocol { try require(HTTPToken.isValid(subprotocol), "subprotocol must be an HTTP token") }
        }
    }
}
