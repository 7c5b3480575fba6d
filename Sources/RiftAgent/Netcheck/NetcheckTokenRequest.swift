import FoundationEssentials
import RiftCrypto
import RiftProtocol
import RiftSupport

/// Builds the hub request of `riftgate netcheck --token-file` from the command line and the agent's configuration.
public enum NetcheckTokenRequest {
    /// The request for the hub at `hub` (a `ws://` or `wss://` URL) and `network`, taking the network and CA file from
    /// `configuration` when they are not given and it names the same hub (any of its hubs). Fails, naming what is missing, for a bare host
    /// name, no network, or a text that is not a riftgate token.
    public static func make(hub: String, network: String?, token: String, caFile: String?,
                            configuration: AgentConfiguration?) throws(AgentError) -> HubICEServerRequest {
        guard hub.hasPrefix("ws://") || hub.hasPrefix("wss://") else {
            throw .configuration("a token is checked over the hub's WebSocket: give --hub as a URL (wss://host:port), not \(hub)")
        }
        let host = (try? NetworkCheck(hubURL: hub))?.hubHost
        let sameHub = configuration?.hubs.contains { (try? NetworkCheck(hubURL: $0))?.hubHost == host } ?? false
        guard let networkName = network ?? (sameHub ? configuration?.network : nil) else {
            throw .configuration("which network is the token for? give --network NAME")
        }
        guard Names.isValidNetworkName(networkName) else {
            throw .configuration("\(networkName) is not a network name (1-63 of a-z, 0-9 and -, not starting with -)")
        }
        let bearer: BearerToken
        do { bearer = try BearerToken(text: token.trimmingWhitespaceAndNewlines()) } catch {
            throw .configuration("that is not a riftgate token (expected rgt_… as printed by `riftgate-hub token create`)")
        }
        return HubICEServerRequest(hubURL: hub, network: networkName, token: bearer,
                                   caFile: caFile ?? (sameHub ? configuration?.caFile : nil))
    }
}
