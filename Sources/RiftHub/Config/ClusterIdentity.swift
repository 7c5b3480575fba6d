import Foundation
import RiftCrypto

/// A hub's id in a cluster: its configured (or host-derived) name plus a random suffix drawn at each start
/// (`hub-2-5f3a9c1e`), so that a restarted hub is a new incarnation whose sequences start at 1 without confusing anyone
/// (docs/architecture.md, "Encoding"). One NATS subject token: `a-z`, `0-9`, `-`, `_`.
public enum ClusterIdentity {
    /// The longest name: the id (name, `-`, 8 hex digits) stays within the 64 characters a cluster message allows.
    public static let maximumNameLength = 55

    /// Whether `name` can be a hub name.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumNameLength && name.utf8.allSatisfy(isAllowed)
    }

    /// The default name: the host name, lowercased, with every other character turned into `-` ("hub" if empty).
    public static func defaultName(hostName: String = ProcessInfo.processInfo.hostName) -> String {
        let first = hostName.split(separator: ".").first.map(String.init) ?? ""
        let mapped = String(decoding: first.lowercased().utf8.prefix(maximumNameLength).map { isAllowed($0) ? $0 : UInt8(ascii: "-") }, as: UTF8.self)
        return mapped.isEmpty ? "hub" : mapped
    }

    /// A new incarnation id for `name`.
    public static func incarnation(of name: String) -> String {
        name + "-" + SecureRandom.bytes(4).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
    }
}
