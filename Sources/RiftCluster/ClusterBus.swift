internal import CRiftNATS
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RiftSupport

/// One hub's connection to the cluster's NATS servers (core NATS, at most once): publish, subscribe, flush, close.
///
/// Threads. libnats runs its own threads; this type adds none. Each subscription's handler runs on that
/// subscription's libnats delivery thread (its own, or one of libnats' shared pool with
/// `ClusterBusConfiguration.sharesDeliveryThreads`; messages of one subscription in order, one at a time; two subscriptions'
/// handlers may run at once), so a handler must only hand the message on (the hub posts it to its service thread) and
/// must never call `close()` or `cancel()`. Connection events (`ClusterBusEvent`) run on libnats' asynchronous-callback
/// thread. `publish`, `subscribe` and `flush` may be called from any thread.
///
/// Reconnection is libnats': every known server is tried, without limit, with a jittered wait between rounds
/// (`ClusterBusConfiguration`); subscriptions are restored and publishes made meanwhile are buffered and sent after
/// reconnection. Messages published to the cluster while this connection is down are not replayed (core NATS keeps
/// nothing): the protocol above copes with that (docs/architecture.md, "Hub cluster").
///
/// The C connection is created by `connect` and destroyed by `deinit`; `close()` closes it and waits until libnats has
/// reported it closed and every handler has returned, so that nothing of the bus runs after it.
public final class ClusterBus: @unchecked Sendable {  // the pointers are immutable; libnats locks the connection
    private let connection: OpaquePointer
    private let events: ConnectionEvents
    private let logger: Logger
    /// The configured servers (redacted when shown).
    public let servers: ServerList
    /// Live subscriptions, for `close()` to wait on; a cancelled one takes itself out.
    private let subscriptions = Locked<[ObjectIdentifier: ClusterSubscription]>([:])

    private init(connection: OpaquePointer, events: ConnectionEvents, logger: Logger, servers: ServerList) {
        self.connection = connection
        self.events = events
        self.logger = logger
        self.servers = servers
    }

    deinit {
        if !events.isClosed { close() }
        subscriptions.withLock { $0.removeAll() }  // destroy the subscriptions before their connection
        natsConnection_Destroy(connection)
    }

    /// Connects to the first server that answers, trying each configured one (in random order unless configured
    /// otherwise); `onEvent` receives later connection changes on libnats' callback thread.
    ///
    /// Fails when no server can be reached within the connect timeout (`NATS_NO_SERVER`) or an option is refused; the
    /// error's text carries no credential. Once connected, losing the servers never fails a call outright: libnats
    /// reconnects, and `publish` buffers meanwhile.
    public static func connect(
        _ configuration: ClusterBusConfiguration, logger: Logger, onEvent: (@Sendable (ClusterBusEvent) -> Void)? = nil
    ) throws(ClusterBusError) -> ClusterBus {
        let servers = configuration.servers
        var options: OpaquePointer?
        try check(natsOptions_Create(&options), servers: servers, "cannot create libnats options")
        defer { natsOptions_Destroy(options) }
        let events = ConnectionEvents(logger: logger, servers: servers, handler: onEvent)
        let context = Unmanaged.passRetained(events)
        do throws(ClusterBusError) {
            try configure(options, configuration, context: context.toOpaque())
            var connection: OpaquePointer?
            try check(natsConnection_Connect(&connection, options), servers: servers, "cannot connect to \(servers)")
            guard let connection else {
                throw ClusterBusError(
                    status: ClusterBusError.wrapperMisuse, statusText: "no connection", reason: "libnats returned no connection")
            }
            let bus = ClusterBus(connection: connection, events: events, logger: logger, servers: servers)
            logger.info("NATS connected", metadata: ["server": "\(bus.connectedServer ?? "?")", "servers": "\(servers)"])
            return bus
        } catch {
            context.release()  // no connection: libnats will never call back with it
            throw error
        }
    }

    /// Sends `payload` on `subject` to every subscriber in the cluster (one per queue group), at most once.
    ///
    /// Returns once libnats has the message (written or buffered), before any subscriber has it; `flush` waits for the
    /// server. Fails on an invalid subject, a closed bus, or a full reconnect buffer.
    public func publish(_ subject: String, _ payload: [UInt8]) throws(ClusterBusError) {
        let status = payload.withUnsafeBytes { bytes in
            natsConnection_Publish(connection, subject, bytes.baseAddress, Int32(bytes.count))
        }
        try Self.check(status, servers: servers, "cannot publish on \(subject)")
    }

    /// Calls `handler` with every message published on `subject` (NATS wildcards allowed); with `queueGroup`, each
    /// message goes to one of the subscribers in that group across the cluster.
    ///
    /// `handler` runs on the subscription's libnats delivery thread (see the type's documentation). Fails on an invalid
    /// subject or a closed bus. The interest reaches the server asynchronously: `flush` after subscribing to be sure
    /// that messages published from elsewhere afterwards are delivered.
    public func subscribe(
        _ subject: String, queueGroup: String? = nil, handler: @escaping @Sendable (ClusterBusMessage) -> Void
    ) throws(ClusterBusError) -> ClusterSubscription {
        let context = SubscriptionContext(handler: handler)
        let retained = Unmanaged.passRetained(context)
        var subscription: OpaquePointer?
        let status: natsStatus
        if let queueGroup {
            status = natsConnection_QueueSubscribe(
                &subscription, connection, subject, queueGroup, subscriptionMessageCallback, retained.toOpaque())
        } else {
            status = natsConnection_Subscribe(
                &subscription, connection, subject, subscriptionMessageCallback, retained.toOpaque())
        }
        guard status == NATS_OK, let subscription else {
            retained.release()  // no subscription: no callback will ever use the context
            try Self.check(status == NATS_OK ? NATS_ERR : status, servers: servers, "cannot subscribe to \(subject)")
            fatalError("unreachable: check throws on a failure")
        }
        if natsSubscription_SetOnCompleteCB(subscription, subscriptionCompleteCallback, retained.toOpaque()) != NATS_OK {
            // Closed in between: the delivery thread may still be running the handler, so the context stays retained.
            logger.debug("NATS subscription closed before its completion callback was set", metadata: ["subject": "\(subject)"])
            context.complete()
        }
        let handle = ClusterSubscription(
            subscription: subscription, context: context, subject: subject, queueGroup: queueGroup,
            detach: { [weak subscriptions] identifier in _ = subscriptions?.withLock { $0.removeValue(forKey: identifier) } })
        subscriptions.withLock { $0[ObjectIdentifier(handle)] = handle }
        return handle
    }

    /// Waits until the server has processed everything published and subscribed so far (a PING/PONG round trip).
    ///
    /// Fails with `NATS_TIMEOUT` after `timeout`, for example while reconnecting.
    public func flush(timeout: Duration = .seconds(5)) throws(ClusterBusError) {
        try Self.check(
            natsConnection_FlushTimeout(connection, max(1, timeout.wholeMilliseconds)), servers: servers,
            "flush did not complete within \(timeout)")
    }

    /// How many subscriptions are live (not cancelled).
    public var subscriptionCount: Int { subscriptions.withLock { $0.count } }

    /// The server this bus is attached to now (redacted URL), or nil while disconnected.
    public var connectedServer: String? { RiftCluster.connectedServer(connection) }

    /// Whether the connection is up (not reconnecting, not closed).
    public var isConnected: Bool { natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED }

    /// Closes the connection: no message is sent or delivered afterwards. Waits up to `timeout` for libnats to report
    /// it closed and for every subscription's handler to return for the last time.
    ///
    /// Returns true when both happened in time; false otherwise (then a handler may still be running: never call this
    /// from a handler or an event callback). Calling it again is harmless.
    @discardableResult
    public func close(timeout: Duration = .seconds(5)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        events.willClose()
        natsConnection_Close(connection)
        let waitLimit = DispatchTime.now() + .milliseconds(Int(clamping: timeout.wholeMilliseconds))
        let closed = events.closedSignal.wait(timeout: waitLimit) == .success
        if closed { events.closedSignal.signal() }  // for a later call
        var handlersDone = true
        for subscription in subscriptions.withLock({ Array($0.values) }) {
            let left = max(.zero, deadline - .now)
            if !subscription.waitUntilComplete(timeout: left) { handlersDone = false }
        }
        if !closed || !handlersDone {
            logger.warning(
                "NATS bus not closed cleanly in time", metadata: ["closed": "\(closed)", "handlers_done": "\(handlersDone)"])
        }
        return closed && handlersDone
    }
}

extension ClusterBus {
    /// Applies `configuration` to libnats options, with `context` (the connection's `ConnectionEvents`) for the callbacks.
    private static func configure(
        _ options: OpaquePointer?, _ configuration: ClusterBusConfiguration, context: UnsafeMutableRawPointer
    ) throws(ClusterBusError) {
        let servers = configuration.servers
        func set(_ status: natsStatus, _ what: String) throws(ClusterBusError) {
            try check(status, servers: servers, "cannot set the NATS option \(what)")
        }
        let urls = servers.urls.map { strdup($0) }
        defer { urls.forEach { free($0) } }
        var pointers = urls.map { UnsafePointer($0) }
        try set(natsOptions_SetServers(options, &pointers, Int32(pointers.count)), "servers")
        try set(natsOptions_SetNoRandomize(options, !configuration.randomizesServers), "no-randomize")
        try set(natsOptions_SetName(options, configuration.name), "name")
        try set(natsOptions_SetTimeout(options, configuration.connectTimeout.wholeMilliseconds), "timeout")
        try set(natsOptions_SetAllowReconnect(options, true), "allow-reconnect")
        try set(natsOptions_SetMaxReconnect(options, -1), "max-reconnect")  // -1: for ever
        try set(natsOptions_SetReconnectWait(options, configuration.reconnectWait.wholeMilliseconds), "reconnect-wait")
        let jitter = configuration.reconnectJitter.wholeMilliseconds
        try set(natsOptions_SetReconnectJitter(options, jitter, jitter), "reconnect-jitter")
        try set(natsOptions_SetReconnectBufSize(options, Int32(clamping: configuration.reconnectBufferBytes)), "reconnect-buffer")
        try set(natsOptions_SetPingInterval(options, configuration.pingInterval.wholeMilliseconds), "ping-interval")
        try set(natsOptions_SetMaxPingsOut(options, Int32(clamping: configuration.maximumPingsOutstanding)), "max-pings-out")
        try set(natsOptions_UseGlobalMessageDelivery(options, configuration.sharesDeliveryThreads), "global message delivery")
        try set(natsOptions_SetDisconnectedCB(options, connectionDisconnectedCallback, context), "disconnected callback")
        try set(natsOptions_SetReconnectedCB(options, connectionReconnectedCallback, context), "reconnected callback")
        try set(natsOptions_SetClosedCB(options, connectionClosedCallback, context), "closed callback")
        try set(natsOptions_SetErrorHandler(options, connectionErrorCallback, context), "error handler")
        // A tls:// URL already makes libnats require TLS; the CA file only replaces the system's trust store.
        if let caFile = configuration.caFile {
            try check(natsOptions_LoadCATrustedCertificates(options, caFile), servers: servers, "cannot load the NATS CA file \(caFile)")
        }
        if let credentialsFile = configuration.credentialsFile {
            try check(natsOptions_SetUserCredentialsFromFiles(options, credentialsFile, nil), servers: servers,
                      "cannot use the NATS credentials file \(credentialsFile)")
        }
    }

    /// Throws a `ClusterBusError` for any status but `NATS_OK`, with libnats' text and its last error's detail, scrubbed
    /// of credentials.
    static func check(_ status: natsStatus, servers: ServerList, _ what: @autoclosure () -> String) throws(ClusterBusError) {
        guard status != NATS_OK else { return }
        let text = String(cString: natsStatus_GetText(status))
        var reason = what()
        // The thread's last error: the same text with libnats' source location, or a more precise one.
        if let detail = nats_GetLastError(nil).map({ String(cString: $0) }), !detail.isEmpty, !detail.hasSuffix(text) {
            reason += ": \(servers.scrub(detail))"
        }
        throw ClusterBusError(status: Int32(bitPattern: status.rawValue), statusText: text, reason: reason)
    }
}
