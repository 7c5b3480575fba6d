import Testing
@testable import RiftWebSocket

@Suite("the heartbeat wheel buckets connections by second")
struct HeartbeatWheelTests {
    @Test("ids come out in the slot they were scheduled for, once")
    func dueInTheirSecond() {
        var wheel = HeartbeatWheel<Int>(horizon: 5, startingAt: 0)
        wheel.schedule(1, at: 2)
        wheel.schedule(2, at: 3)
        wheel.schedule(3, at: 2)
        #expect(wheel.advance(to: 1) == [])
        #expect(wheel.advance(to: 2) == [1, 3])
        #expect(wheel.advance(to: 2) == [])
        #expect(wheel.advance(to: 3) == [2])
        #expect(wheel.advance(to: 10) == [])
    }

    @Test("a late advance returns everything that came due meanwhile, oldest slot first")
    func lateAdvance() {
        var wheel = HeartbeatWheel<Int>(horizon: 4, startingAt: 10)
        wheel.schedule(1, at: 14)
        wheel.schedule(2, at: 11)
        wheel.schedule(3, at: 12)
        #expect(wheel.advance(to: 40) == [2, 3, 1])
        #expect(wheel.currentSlot == 40)
    }

    @Test("the past becomes the next slot and the far future the horizon, never later")
    func clamped() {
        var wheel = HeartbeatWheel<Int>(horizon: 3, startingAt: 5)
        wheel.schedule(1, at: 0)
        wheel.schedule(2, at: 100)
        #expect(wheel.advance(to: 6) == [1])
        #expect(wheel.advance(to: 7) == [])
        #expect(wheel.advance(to: 8) == [2])
    }

    @Test("buckets are reused turn after turn")
    func severalTurns() {
        var wheel = HeartbeatWheel<Int>(horizon: 2, startingAt: 0)
        for second in Int64(1)...20 {
            #expect(wheel.advance(to: second) == (second >= 3 ? [Int(second - 2)] : []))
            wheel.schedule(Int(second), at: second + 2)
        }
    }
}
