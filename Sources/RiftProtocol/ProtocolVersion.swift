/// Protocol versions this implementation speaks.
public enum ProtocolVersion {
    /// The first version.
    public static let v1: Int64 = 1
    /// Version 1 plus `PeerInfo.allow_in` (access policy port rules, PROTOCOL.md §6.11).
    public static let v2: Int64 = 2
    /// Version 2 plus peers' DNS names: `PeerInfo.dns_name` and `welcome.dns_domain` (PROTOCOL.md §6.13).
    public static let v3: Int64 = 3
    /// Version 3 plus subnet routes: `hello.advertise_routes` and `PeerInfo.routes` (PROTOCOL.md §6.14).
    public static let v4: Int64 = 4
    /// Version 4 plus exit nodes: `hello.advertise_exit_node` and `PeerInfo.exit_node` (PROTOCOL.md §6.15).
    public static let v5: Int64 = 5
    /// Every version this build supports, newest last. The hub offers all of them; the agent chooses the highest one
    /// the hub also offers (`highestCommon`), so a build of both speaks version 5.
    public static let supported: [Int64] = [v1, v2, v3, v4, v5]

    /// The newest version both this build and a hub offering `offered` speak, nil when there is none.
    public static func highestCommon(with offered: [Int64]) -> Int64? {
        supported.filter(offered.contains).max()
    }
    /// The WebSocket path prefix: agents connect to `/v1/networks/<network>`.
    public static let pathPrefix = "/v1/networks/"
    /// The WebSocket subprotocol name agents offer.
    public static let subprotocol = "riftgate.v1"

    /// The network named by a WebSocket request path, or nil when the path is not `/v1/networks/<name>`.
    public static func networkName(fromPath path: String) -> String? {
        guard path.hasPrefix(pathPrefix) else { return nil }
        let name = String(path.dropFirst(pathPrefix.count))
        return Names.isValidNetworkName(name) ? name : nil
    }
}
