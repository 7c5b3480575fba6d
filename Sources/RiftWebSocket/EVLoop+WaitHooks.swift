internal import CRiftEv

extension EVLoop {
    /// Calls `recorder.waitBegins()` right before each `epoll_wait` of this loop and `recorder.waitEnded()` right after
    /// it (libev's loop release and acquire hooks, and its user data pointer, which libwebsockets' libev plugin does
    /// not use). `recorder` is not retained: call `stopObservingWaits()` before it goes, and before the loop runs on
    /// another thread.
    func observeWaits(_ recorder: ServicePassRecorder) {
        ev_set_userdata(pointer, Unmanaged.passUnretained(recorder).toOpaque())
        ev_set_loop_release_cb(pointer, evLoopWaitBegins, evLoopWaitEnded)
    }

    /// Removes the hooks `observeWaits` installed.
    func stopObservingWaits() {
        ev_set_loop_release_cb(pointer, nil, nil)
        ev_set_userdata(pointer, nil)
    }
}

/// libev's release hook: the loop is about to wait.
private func evLoopWaitBegins(_ loop: OpaquePointer?) {
    guard let loop, let recorder = ev_userdata(loop) else { return }
    Unmanaged<ServicePassRecorder>.fromOpaque(recorder).takeUnretainedValue().waitBegins()
}

/// libev's acquire hook: the wait returned.
private func evLoopWaitEnded(_ loop: OpaquePointer?) {
    guard let loop, let recorder = ev_userdata(loop) else { return }
    Unmanaged<ServicePassRecorder>.fromOpaque(recorder).takeUnretainedValue().waitEnded()
}
