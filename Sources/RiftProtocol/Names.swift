/// Validation of the names that appear on the wire.
public enum Names {
    /// Whether `name` is a valid network name: 1–63 of `a-z`, `0-9` and `-`, starting with a letter or digit.
    public static func isValidNetworkName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (1...Limits.maximumNetworkNameLength).contains(scalars.count) else { return false }
        for (position, scalar) in scalars.enumerated() {
            let isLetterOrDigit = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
            guard isLetterOrDigit || (scalar == "-" && position > 0) else { return false }
        }
        return true
    }

    /// Whether `name` is a valid peer name: 1–63 printable characters, no control characters.
    public static func isValidPeerName(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard (1...Limits.maximumPeerNameLength).contains(scalars.count) else { return false }
        return scalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) }
    }

    /// Validates a network name, failing with `invalid_value`.
    public static func checkNetworkName(_ name: String) throws(ProtocolError) {
        guard isValidNetworkName(name) else {
            throw ProtocolError(.invalidValue, "network names are 1-63 characters of a-z, 0-9 and '-', not starting with '-'")
        }
    }
}
