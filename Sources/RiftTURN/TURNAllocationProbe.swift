import FoundationEssentials
import RiftCrypto
#if canImport(Glibc)
import Glibc
#endif

/// One TURN check against one server, over the server's transport (UDP or TCP; TLS is not probed): an unauthenticated
/// Allocate (expecting 401 with REALM and NONCE), the same Allocate with long-term credentials, and on success a Refresh
/// with LIFETIME 0 that frees the allocation. The hub checks its own credentials with it (`TURNCheck`), `riftgate
/// netcheck` the credentials its agent was given.
///
/// Blocking: run it on a thread of its own. Each step waits at most `stepTimeout` (over UDP retransmitting every
/// 250 ms), so a probe takes at most three steps' worth plus a TCP connect. The credential is never logged or returned.
public struct TURNAllocationProbe {
    /// The server probed.
    public var server: TURNServerAddress
    /// The long-term credentials (for coturn's REST API: `expiry:name` and the derived password).
    public var username: String
    public var password: String
    /// The longest wait for one answer, in seconds.
    public var stepTimeout: Double = 2

    /// A probe of `server` with `username` and `password`.
    public init(server: TURNServerAddress, username: String, password: String, stepTimeout: Double = 2) {
        self.server = server
        self.username = username
        self.password = password
        self.stepTimeout = stepTimeout
    }

    /// What one probe found: the result, and the round-trip time of the first (unauthenticated) Allocate when the
    /// server answered it.
    public struct Outcome: Sendable, Equatable {
        public var result: TURNCheckResult
        /// Milliseconds from the last send of the first request to its answer; nil when nothing answered.
        public var roundTripMilliseconds: Double?

        public init(result: TURNCheckResult, roundTripMilliseconds: Double?) {
            self.result = result
            self.roundTripMilliseconds = roundTripMilliseconds
        }
    }

    /// Probes once.
    public func run() -> TURNCheckResult { measure().result }

    /// Probes once, timing the first exchange.
    public func measure() -> Outcome {
        var rtt: Double?
        let result = probe(rtt: &rtt)
        return Outcome(result: result, roundTripMilliseconds: rtt)
    }

    private func probe(rtt: inout Double?) -> TURNCheckResult {
        guard let socket = TURNProbeSocket(host: server.host, port: server.port, transport: server.transport,
                                           connectTimeoutMilliseconds: Int32(stepTimeout * 1000)) else { return .unreachable }
        let transport = TURNMessage.Attribute(type: TURNMessage.requestedTransport, value: [17, 0, 0, 0])
        let challenge: TURNMessage
        switch exchange(socket, TURNMessage(type: TURNMessage.allocate, transactionID: Self.newID(), attributes: [transport]),
                        rtt: &rtt) {
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
        var rtt: Double?
        return exchange(socket, request, key: key, rtt: &rtt)
    }

    /// Sends `request` (over UDP again every 250 ms) and waits for the response with its transaction id; `rtt` is the
    /// time from the last send to that response.
    private func exchange(_ socket: TURNProbeSocket, _ request: TURNMessage, key: [UInt8]? = nil, rtt: inout Double?) -> Exchange {
        guard let datagram = try? request.encoded(integrityKey: key) else { return .failed(.error) }
        let deadline = Date().addingTimeInterval(stepTimeout)
        while Date() < deadline {
            guard socket.send(datagram) else { return .failed(.unreachable) }
            let sent = Date()
            let resend = socket.needsRetransmission ? min(deadline, Date().addingTimeInterval(0.25)) : deadline
            while Date() < resend {
                switch socket.receive(timeoutMilliseconds: max(1, Int32(resend.timeIntervalSinceNow * 1000))) {
                case .refused: return .failed(.unreachable)
                case .nothing: continue
                case .datagram(let bytes):
                    guard let answer = TURNMessage.decode(bytes), answer.transactionID == request.transactionID else { continue }
                    rtt = Date().timeIntervalSince(sent) * 1000
                    return .answer(answer)
                }
            }
        }
        return .failed(.unreachable)
    }

    private static func newID() -> [UInt8] { (0..<12).map { _ in UInt8.random(in: 0...255) } }
}
