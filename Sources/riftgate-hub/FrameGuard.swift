import CRiftFrameGuard
import RiftWebSocket

/// The hub's watch over what clients send beside libwebsockets: `CRiftFrameGuard` follows the bytes lws reads from each
/// public connection (this executable defines `recv` and `SSL_read`, see that target), so that the WebSocket server
/// closes a client that sent an unmasked frame with 1002 and charges the control frames it sends to its frame budget.
/// Lives in the executable so that no library or test binary interposes `recv`.
final class FrameGuard: FrameStreamWatcher {
    /// Sizes the guard's table for the open-file hard limit; fails when it cannot be allocated.
    init() throws(FrameGuardError) {
        let result = CRiftFrameGuard_install()
        guard result == 0 else { throw FrameGuardError(code: -result) }
    }

    func watch(descriptor: Int32, token: UInt, tls: Bool) -> Bool {
        CRiftFrameGuard_watch(descriptor, token, tls ? 1 : 0) == 0
    }

    func forget(descriptor: Int32, token: UInt) {
        CRiftFrameGuard_forget(descriptor, token)
    }

    func sawUnmaskedFrame(descriptor: Int32) -> Bool {
        CRiftFrameGuard_saw_unmasked_frame(descriptor) != 0
    }

    func nextReport() -> FrameStreamReport? {
        var report = CRiftFrameGuard_report()
        guard CRiftFrameGuard_next_report(&report) != 0 else { return nil }
        return FrameStreamReport(token: report.connection, unmasked: report.unmasked != 0,
                                 controlFrames: Int(report.control_frames))
    }
}

/// The frame guard could not be set up (its table could not be allocated), with the errno.
struct FrameGuardError: Error, CustomStringConvertible {
    var code: Int32
    var description: String { "cannot set up the WebSocket frame guard (errno \(code))" }
}
