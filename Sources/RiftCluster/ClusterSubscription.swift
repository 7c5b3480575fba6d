internal import CRiftNATS
import Dispatch
import RiftSupport

/// Interest in one subject (with wildcards: `rift.home.signal.*`, `rift.>`), optionally in a queue group, returned by
/// `ClusterBus.subscribe`.
///
/// Messages reach the handler on this subscription's own libnats delivery thread, one at a time and in the order the
/// server sent them. `cancel()` (or the bus's `close()`) removes the interest and waits until the handler has returned
/// for the last time. Dropping the object without cancelling leaves the subscription running until the bus closes.
public final class ClusterSubscription: @unchecked Sendable {  // the pointer is immutable; libnats locks the object
    private let subscription: OpaquePointer
    private let context: SubscriptionContext
    /// The subject as subscribed.
    public let subject: String
    /// The queue group, if any: each message goes to one member of the group.
    public let queueGroup: String?
    /// Takes this subscription out of its bus's list once cancelled (the hub subscribes and cancels once per session).
    private let detach: @Sendable (ObjectIdentifier) -> Void

    init(
        subscription: OpaquePointer, context: SubscriptionContext, subject: String, queueGroup: String?,
        detach: @escaping @Sendable (ObjectIdentifier) -> Void
    ) {
        self.subscription = subscription
        self.context = context
        self.subject = subject
        self.queueGroup = queueGroup
        self.detach = detach
    }

    deinit {
        natsSubscription_Destroy(subscription)
    }

    /// Stops delivery and waits (up to `timeout`) until the handler will not run again.
    ///
    /// Returns false when the handler was still running after `timeout` (for example because `cancel` was called from
    /// the handler itself, which must not be done). Calling it again is harmless.
    @discardableResult
    public func cancel(timeout: Duration = .seconds(5)) -> Bool {
        _ = natsSubscription_Unsubscribe(subscription)  // NATS_INVALID_SUBSCRIPTION when already closed: fine
        let complete = context.waitUntilComplete(timeout: timeout)
        if complete { detach(ObjectIdentifier(self)) }  // a handler still running keeps it listed for close() to wait on
        return complete
    }

    /// Messages libnats dropped because the handler fell behind (its pending limit was reached).
    public var droppedMessages: Int64 {
        var dropped: Int64 = 0
        _ = natsSubscription_GetDropped(subscription, &dropped)
        return dropped
    }

    /// Whether the handler has returned for the last time (after `cancel` or the bus's `close`).
    var isComplete: Bool { context.isComplete }

    func waitUntilComplete(timeout: Duration) -> Bool { context.waitUntilComplete(timeout: timeout) }
}

/// What libnats' message and completion callbacks for one subscription report to.
///
/// Retained once when subscribing (`Unmanaged.passRetained`) and released exactly once, by libnats' completion callback
/// (`natsSubscription_SetOnCompleteCB`), which runs after the delivery thread's last call of the message handler. Only
/// if the completion callback cannot be installed (the connection closed in between) is the retain kept for ever:
/// freeing it could pull the context from under a handler still running.
final class SubscriptionContext: Sendable {
    let handler: @Sendable (ClusterBusMessage) -> Void
    private let completed = DispatchSemaphore(value: 0)
    private let completion = Locked(false)

    init(handler: @escaping @Sendable (ClusterBusMessage) -> Void) {
        self.handler = handler
    }

    var isComplete: Bool { completion.withLock { $0 } }

    func complete() {
        completion.withLock { $0 = true }
        completed.signal()
    }

    func waitUntilComplete(timeout: Duration) -> Bool {
        if isComplete { return true }
        let nanoseconds = Int(clamping: timeout.wholeMilliseconds * 1_000_000)
        guard completed.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return false }
        completed.signal()  // for any later waiter
        return true
    }
}

// MARK: - C callbacks (the subscription's libnats delivery thread)

let subscriptionMessageCallback: natsMsgHandler = { _, _, message, closure in
    let context = Unmanaged<SubscriptionContext>.fromOpaque(closure!).takeUnretainedValue()
    let subject = String(cString: natsMsg_GetSubject(message))
    let count = Int(natsMsg_GetDataLength(message))
    let payload: [UInt8] = natsMsg_GetData(message).map { data in
        data.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    } ?? []
    natsMsg_Destroy(message)
    context.handler(ClusterBusMessage(subject: subject, payload: payload))
}

let subscriptionCompleteCallback: natsOnCompleteCB = { closure in
    let context = Unmanaged<SubscriptionContext>.fromOpaque(closure!).takeRetainedValue()
    context.complete()
}
