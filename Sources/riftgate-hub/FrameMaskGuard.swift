import CRiftFrameGuard
import RiftWebSocket

/// The hub's check that clients mask their frames: `CRiftFrameGuard` follows the bytes lws reads from each public
/// connection (this executable defines `recv` and `SSL_read`, see that target) and the WebSocket server closes a client
/// that sent an unmasked frame with 1002. Lives in the executable so that no library or test binary interposes `recv`.
final class FrameMaskGuard: UnmaskedFrameDetector {
    /// Sizes the guard's table for the open-file hard limit; fails when it cannot be allocated.
    init() throws(FrameMaskGuardError) {
        let result = CRiftFrameGuard_install()
        guard result == 0 else { throw FrameMaskGuardError(code: -result) }
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

    func nextOffender() -> UInt? {
        let token = CRiftFrameGuard_next_offender()
        return token == 0 ? nil : token
    }
}

/// The frame guard could not be set up (its table could not be allocated), with the errno.
struct FrameMaskGuardError: Error, CustomStringConvertible {
    var code: Int32
    var description: String { "cannot set up the WebSocket mask check (errno \(code))" }
}
