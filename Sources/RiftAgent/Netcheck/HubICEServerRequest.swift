import RiftCrypto
import RiftProtocol
import RiftWebSocket

/// Fetches a network's ICE servers from the hub with the network's token alone (`ice_servers`, PROTOCOL.md §6.12), for
/// `riftgate netcheck --token-file`: one WebSocket connection that sends no key and no proof, so it joins nothing — no
/// session is replaced, no overlay address taken, no key slot of a single-use or per-device token used. The hub answers
/// one `ice_servers` (TURN credentials valid for minutes) and closes normally.
public struct HubICEServerRequest: Sendable {
    /// The hub's WebSocket URL without the path (`wss://hub.example:443`).
    public var hubURL: String
    /// The network the token belongs to.
    public var network: String
    /// The network's token; sent only in the `Authorization` header, never logged or printed.
    public var token: BearerToken
    /// CA certificates to verify the hub with (nil: the system trust store).
    public var caFile: String?
    /// The longest the whole exchange may take, connection included.
    public var timeout: Duration = .seconds(15)

    /// What the hub said.
    public enum Outcome: Sendable, Equatable {
        /// The network's servers and fresh credentials.
        case servers(ICEServers)
        /// The hub does not know the request (it answered `not_authenticated`: a hub older than §6.12).
        case hubTooOld
        /// The hub refused the token (`unauthorized`, `rate_limited`, …), with its code and message.
        case refused(code: String, message: String)
        /// No answer: the hub could not be reached, or the connection ended without one.
        case failed(String)
    }

    /// A request for `network` at `hubURL`.
    public init(hubURL: String, network: String, token: BearerToken, caFile: String? = nil) {
        self.hubURL = hubURL
        self.network = network
        self.token = token
        self.caFile = caFile
    }

    /// The full WebSocket URL, `<hub>/v1/networks/<network>`.
    var url: String {
        var base = hubURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + ProtocolVersion.pathPrefix + network
    }

    /// Connects, asks after the challenge, and returns the first answer; never waits longer than `timeout` (plus the
    /// client's close timeout).
    public func run() async -> Outcome {
        var settings = WebSocketClientConfiguration(url: url)
        settings.headers = [(name: "Authorization", value: "Bearer " + token.revealedText)]
        settings.caFile = caFile
        settings.subprotocol = ProtocolVersion.subprotocol
        settings.connectTimeout = min(timeout, settings.connectTimeout)
        let client: WebSocketClient
        do { client = try WebSocketClient(configuration: settings) } catch { return .failed("the hub URL is not usable: \(error)") }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { client.close(code: 1000, reason: "netcheck timed out") }
        }
        defer { timer.cancel() }
        client.connect()
        var outcome: Outcome?
        for await event in client.events {
            switch event {
            case .connected:
                break
            case .text(let text):
                guard outcome == nil else { continue }
                outcome = Self.answer(to: text, client: client)
                if outcome != nil { client.close(code: 1000, reason: "done") }
            case .closed(_, let reason):
                return outcome ?? .failed("no answer from the hub (\(reason))")
            }
        }
        return outcome ?? .failed("the connection to the hub ended without an answer")
    }

    /// What one frame from the hub means: the challenge is answered with the request (nil: keep reading).
    static func answer(to text: String, client: WebSocketClient) -> Outcome? {
        guard let message = try? HubMessage.decode(text) else { return .failed("the hub sent a frame this build cannot read") }
        switch message {
        case .challenge:
            client.send(ClientMessage.iceServers(ICEServersRequest(id: "netcheck")).encoded())
            return nil
        case .iceServers(let servers):
            return .servers(servers)
        case .error(let frame):
            return outcome(of: frame)
        default:
            return .failed("the hub answered with an unexpected message")
        }
    }

    /// The outcome an `error` frame means. A hub that predates `ice_servers` refuses it as it refuses anything but
    /// `hello` before `welcome`: `not_authenticated`.
    static func outcome(of frame: ErrorFrame) -> Outcome {
        frame.knownCode == .notAuthenticated ? .hubTooOld : .refused(code: frame.code, message: frame.message)
    }
}
