/// Protocol versions this implementation speaks.
public enum ProtocolVersion {
    /// The only version defined so far.
    public static let v1: Int64 = 1
    /// Every version this build supports, newest last.
    public static let supported: [Int64] = [v1]
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
