import Foundation
import RiftCrypto
@testable import RiftHub
import RiftProtocol
import RiftSupport
import RiftWebSocket
import Testing

/// The hub's proof-check thread: checks queued from another thread come back as verdicts, in order, and stopping joins it.
@Suite("Hub: the proof-check thread")
struct ProofCheckWorkerTests {
    /// A check for connection `id`: a proof by `key` for a fresh challenge, claimed for `claimed` (`key` by default).
    private func check(_ id: UInt64, hubKey: PrivateKey, key: PrivateKey, claimed: PrivateKey? = nil) throws -> ProofCheck<ConnectionID> {
        let challenge = Challenge(versions: ProtocolVersion.supported, hubKey: hubKey.publicKey,
                                  nonce: SecureRandom.bytes(Challenge.nonceBytes))
        let proof = try PossessionProof.make(challenge: challenge, network: "home", key: key)
        return ProofCheck(connection: ConnectionID(rawValue: id), proof: proof, challengeNonce: challenge.nonce, network: "home",
                          agentKey: (claimed ?? key).publicKey)
    }

    @Test("checks submitted before and after the start are all answered, in order, with the right verdicts")
    func verdictsInOrder() throws {
        let hubKey = PrivateKey.generate()
        let worker = ProofCheckWorker(hubKey: hubKey)
        let verdicts = Locked<[ProofVerdict<ConnectionID>]>([])
        var checks: [ProofCheck<ConnectionID>] = []
        for id in 1...40 as ClosedRange<UInt64> {
            let key = PrivateKey.generate()
            checks.append(try check(id, hubKey: hubKey, key: key, claimed: id % 3 == 0 ? PrivateKey.generate() : nil))
        }
        worker.submit(checks[0])  // waits for the start
        try worker.start { batch in verdicts.withLock { $0 += batch } }
        for check in checks.dropFirst() { worker.submit(check) }
        let deadline = ContinuousClock.now + .seconds(10)
        while verdicts.withLock({ $0.count }) < checks.count, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        worker.stop()
        let received = verdicts.withLock { $0 }
        #expect(received.map(\.connection.rawValue) == Array(1...40))
        #expect(received.map(\.isValid) == (1...40).map { $0 % 3 != 0 })
        #expect(received.map(\.challengeNonce) == checks.map(\.challengeNonce))
        worker.stop()  // idempotent
        worker.submit(checks[0])  // after the stop: dropped, nothing runs
        Thread.sleep(forTimeInterval: 0.05)
        #expect(verdicts.withLock { $0.count } == checks.count)
    }
}
