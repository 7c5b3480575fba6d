internal import CRiftWebSockets

/// One libwebsockets timer (`lws_sorted_usec_list_t`) on a context's service thread.
///
/// lws calls `callback` with the entry only; `owner(of:)` recovers the object passed at init,
/// which must outlive the timer (the event loops own their timers). Schedule and cancel only on
/// the service thread, and cancel before the context is destroyed.
final class LWSTimer {
    private let storage: UnsafeMutablePointer<CRiftWebSockets_timer>
    private let callback: sul_cb_t

    /// A timer whose callback recovers `owner` (not retained) via `owner(of:)`.
    init(owner: AnyObject, callback: sul_cb_t) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: CRiftWebSockets_timer())
        storage.pointee.owner = Unmanaged.passUnretained(owner).toOpaque()
        self.callback = callback
    }

    /// Fires the callback once, `delay` from now, replacing any earlier schedule.
    func schedule(on context: OpaquePointer, after delay: Duration) {
        lws_sul_schedule(context, 0, CRiftWebSockets_timer_entry(storage), callback, max(delay.wholeMicroseconds, 1))
    }

    /// Unschedules the timer if it is pending.
    func cancel() {
        lws_sul_cancel(CRiftWebSockets_timer_entry(storage))
    }

    /// The owner of the timer lws called back with `entry`.
    static func owner<Owner: AnyObject>(of entry: UnsafeMutablePointer<lws_sorted_usec_list_t>?, as type: Owner.Type) -> Owner {
        Unmanaged<Owner>.fromOpaque(CRiftWebSockets_timer_owner(entry)!).takeUnretainedValue()
    }

    deinit {
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
}
