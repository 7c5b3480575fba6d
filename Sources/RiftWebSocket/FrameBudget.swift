/// Limits how many frames a client may send, whatever they carry.
///
/// The hub's rate limit counts whole messages, and the size limit counts bytes; a message split into endless
/// zero-length continuation frames escapes both while each frame still costs a callback on the service thread, and so
/// does a flood of pings, which lws answers without one. This token bucket charges every data frame (once, however many
/// reads its payload takes: `MessageAssembler.nextPieceStartsFrame` tells) and, with a `FrameStreamWatcher`, every
/// control frame (in steps, as the watcher reports them): `burst` at once, refilled at `perSecond`. A signaling
/// connection sends less than one frame a second, so the defaults are far above any honest client.
struct FrameBudget {
    let burst: Double
    let perSecond: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    init(burst: Int, perSecond: Int, now: ContinuousClock.Instant = .now) {
        precondition(burst > 0 && perSecond > 0, "a frame budget needs a positive burst and rate")
        self.burst = Double(burst)
        self.perSecond = Double(perSecond)
        tokens = Double(burst)
        updated = now
    }

    /// Charges `frames` frames (one by default); false when the budget does not hold them (then nothing is charged).
    mutating func take(_ frames: Int = 1, now: ContinuousClock.Instant) -> Bool {
        let elapsed = now - updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(burst, tokens + seconds * perSecond)
        updated = now
        guard tokens >= Double(frames) else { return false }
        tokens -= Double(frames)
        return true
    }
}
