import RiftCrypto
@testable import RiftHub
import RiftProtocol
import Testing

/// The actions a pass holds until its writes are committed (`HeldActions`, used by the hub's socket handler).
@Suite("Hub: actions held until the pass's commit")
struct HeldActionsTests {
    /// A pass in which `b` joins a network where `a` already is: its actions, in the router's order.
    private func joinPass() -> (hub: RouterHarness, a: Int, b: Int, pass: [HubAction<Int>]) {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let (a, _) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "a")
        let before = hub.log.count
        let (b, welcome) = hub.join(network: "home", token: token, key: PrivateKey.generate(), name: "b")
        #expect(welcome != nil)
        return (hub, a, b, Array(hub.log[before...]))
    }

    @Test("after a commit every held action comes out once, in the order it was held")
    func committedInOrder() {
        let (_, a, b, pass) = joinPass()
        #expect(pass.contains { if case .send(.welcome, b) = $0 { true } else { false } })
        #expect(pass.contains { if case .send(.peerJoined, a) = $0 { true } else { false } })
        var held = HeldActions<Int>()
        #expect(held.isEmpty)
        held.hold(Array(pass.prefix(1)))
        held.hold(Array(pass.dropFirst()))
        held.hold([.close(a, code: 1000, reason: "later in the pass")])
        #expect(!held.isEmpty)
        #expect(held.takeAfterCommit() == pass + [.close(a, code: 1000, reason: "later in the pass")])
        #expect(held.isEmpty)
        #expect(held.takeAfterCommit().isEmpty, "nothing comes out twice")
    }

    @Test("after a failed commit a connection welcomed in the pass hears only internal_error and is closed; the rest goes out")
    func failedCommit() {
        let (_, a, b, pass) = joinPass()
        var held = HeldActions<Int>()
        held.hold(pass)
        let out = held.takeAfterFailedCommit()
        #expect(held.isEmpty)
        for action in out {
            if case .send(let message, b) = action, case .error(let frame) = message {
                #expect(frame.code == ErrorCode.internalError.rawValue)
            } else if case .send(_, b) = action {
                Issue.record("a connection whose join was not stored must not hear anything but the error: \(action)")
            }
        }
        #expect(out.last == .close(b, code: HubCloseCode.internalError, reason: "internal_error"))
        #expect(out.filter { if case .send(.peerJoined, a) = $0 { true } else { false } }.count == 1,
                "the others still hear of the join; its close is announced as a departure")
    }
}
