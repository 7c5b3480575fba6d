import Foundation
import RiftCrypto
#if canImport(Glibc)
import Glibc
#endif

/// One TURN check against one server, over UDP: an unauthenticated Allocate (expecting 401 with REALM and NONCE), the
/// same Allocate with long-term credentials, and on success a Refresh with LIFETIME 0 that frees the allocation.
///
/// Blocking: run it on a thread of its own. Each step waits at most `stepTimeout` (retransmitting every 250 ms), so a
/// probe takes at most three steps' worth. The credential is never logged or returned.
struct TURNAllocationProbe {
    var server: TURNServerAddress
    var username: String
    var password: String
    var stepTimeout: Double = 2

    /// Probes once.
    func run() -> TURNCheckResult {
        guard let socket = TURNProbeSocket(host: server.host, port: server.port) else { return .unreachable }
        let transport = TURNMessage.Attribute(type: TURNMessage.requestedTransport, value: [17, 0, 0, 0])
        let challenge: TURNMessage
        switch exchange(socket, TURNMessage(type: TURNMessage.allocate, transactionID: Self.newID(), attributes: [transport])) {
        case .answer(let answer): challenge = answer
        case .failed(let result): return result
        }
        if challenge.isSuccess(of: TURNMessage.allocate) { return .error }  // a TURN server without authentication
        guard challenge.errorNumber == 401, let realm = challenge.value(of: TURNMessage.realm),
              let nonce = challenge.value(of: TURNMessage.nonce) else { return .error }
        guard var key = try? STUNMessageIntegrity.longTermKey(username: username, realm: String(decoding: realm, as: UTF8.self),
                                                               password: password) else { return .error }
        defer { for index in key.indices { key[index] = 0 } }
        let credentials = [TURNMessage.Attribute(type: TURNMessage.username, value: Array(username.utf8)),
                           TURNMessage.Attribute(type: TURNMessage.realm, value: realm),
                           TURNMessage.Attribute(type: TURNMessage.nonce, value: nonce)]
        let request = TURNMessage(type: TURNMessage.allocate, transactionID: Self.newID(), attributes: [transport] + credentials)
        switch exchange(socket, request, key: key) {
        case .failed(let result):
            return result
        case .answer(let answer) where answer.isSuccess(of: TURNMessage.allocate):
            let release = TURNMessage(type: TURNMessage.refresh, transactionID: Self.newID(),
                                      attributes: [TURNMessage.Attribute(type: TURNMessage.lifetime, value: [0, 0, 0, 0])] + credentials)
            _ = exchange(socket, release, key: key)  // best effort: an unreleased allocation expires by itself
            return .ok
        case .answer(let answer):
            return answer.errorNumber == 401 || answer.errorNumber == 438 ? .rejected : .error
        }
    }

    private enum Exchange { case answer(TURNMessage), failed(TURNCheckResult) }

    /// Sends `request` and waits for the response with its transaction id.
    private func exchange(_ socket: TURNProbeSocket, _ request: TURNMessage, key: [UInt8]? = nil) -> Exchange {
        guard let datagram = try? request.encoded(integrityKey: key) else { return .failed(.error) }
        let deadline = Date().addingTimeInterval(stepTimeout)
        while Date() < deadline {
            guard socket.send(datagram) else { return .failed(.unreachable) }
            let resend = min(deadline, Date().addingTimeInterval(0.25))
            while Date() < resend {
                switch socket.receive(timeoutMilliseconds: max(1, Int32(resend.timeIntervalSinceNow * 1000))) {
                case .refused: return .failed(.unreachable)
                case .nothing: continue
                case .datagram(let bytes):
                    guard let answer = TURNMessage.decode(bytes), answer.transactionID == request.transactionID else { continue }
                    return .answer(answer)
                }
            }
        }
        return .failed(.unreachable)
    }

    private static func newID() -> [UInt8] { (0..<12).map { _ in UInt8.random(in: 0...255) } }
}
