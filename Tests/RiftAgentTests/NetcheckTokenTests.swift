import Foundation
import RiftCrypto
@testable import RiftAgent
import RiftProtocol
import Testing

/// `riftgate netcheck --token-file`: building the hub request and reading the hub's answer.
@Suite("netcheck: TURN credentials from the hub by token")
struct NetcheckTokenTests {
    static let token = BearerToken.generate().revealedText
    static let configuration: AgentConfiguration = {
        var configuration = AgentConfiguration(hub: "wss://hub.example:8443", network: "home", name: "laptop", secretsFile: "/x")
        configuration.caFile = "/etc/riftgate/ca.pem"
        return configuration
    }()

    @Test("network and CA file come from the configuration of the same hub; the URL gets the network's path")
    func fromConfiguration() throws {
        let request = try NetcheckTokenRequest.make(hub: "wss://hub.example:8443", network: nil, token: Self.token + "\n", caFile: nil,
                                                    configuration: Self.configuration)
        #expect(request.network == "home" && request.caFile == "/etc/riftgate/ca.pem")
        #expect(request.url == "wss://hub.example:8443/v1/networks/home")
        #expect(request.token.revealedText == Self.token, "surrounding whitespace (a file's newline) is trimmed")
        let explicit = try NetcheckTokenRequest.make(hub: "ws://hub.example:8080/", network: "work", token: Self.token, caFile: "/ca",
                                                     configuration: Self.configuration)
        #expect(explicit.network == "work" && explicit.caFile == "/ca" && explicit.url == "ws://hub.example:8080/v1/networks/work")
    }

    @Test("another hub's configuration lends nothing; a bare host, a bad network or a non-token is refused with a reason",
          arguments: [
              ("wss://other.example", nil, Self.token, "give --network"),
              ("hub.example", "home", Self.token, "as a URL"),
              ("wss://hub.example", "-home", Self.token, "not a network name"),
              ("wss://hub.example", "home", "hunter2", "not a riftgate token"),
          ] as [(String, String?, String, String)])
    func refused(hub: String, network: String?, token: String, reason: String) {
        do {
            _ = try NetcheckTokenRequest.make(hub: hub, network: network, token: token, caFile: nil, configuration: Self.configuration)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
            #expect(!"\(error)".contains(Self.token))
        }
    }

    @Test("an old hub's not_authenticated means too old; other errors are refusals")
    func errorOutcomes() {
        #expect(HubICEServerRequest.outcome(of: ErrorFrame(code: "not_authenticated", message: "send a valid hello first")) == .hubTooOld)
        #expect(HubICEServerRequest.outcome(of: ErrorFrame(code: "unauthorized", message: "no")) == .refused(code: "unauthorized", message: "no"))
        #expect(HubICEServerRequest.outcome(of: ErrorFrame(code: "rate_limited", message: "later")) == .refused(code: "rate_limited", message: "later"))
    }

    @Test("the report says where the credentials came from, and that a network has no TURN server")
    func reportSource() throws {
        var report = NetcheckReport(hub: "hub.example", stunPort: 3478, alternatePort: 3479)
        report.turnServers = []
        report.turnCredentialsFrom = "hub"
        report.conclude()
        #expect(report.text.contains("TURN: none offered (no TURN servers on this network)\n  (TURN login from the hub, asked with the network's token)"))
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains(#""turn_credentials_from":"hub""#) && json.contains(#""turn":"none offered""#))
        var unchecked = NetcheckReport(hub: "hub.example", stunPort: 3478, alternatePort: 3479)
        unchecked.conclude()
        #expect(!String(decoding: try JSONEncoder().encode(unchecked), as: UTF8.self).contains("turn_credentials_from"))
    }
}
