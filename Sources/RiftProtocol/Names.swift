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

    /// Whether `name` is a valid peer name (PROTOCOL.md §6): 1–63 Unicode scalars, none of general category Cc
    /// (controls, including U+0085), Cf (format characters: U+200B, U+FEFF, the bidi overrides U+202A–U+202E and
    /// isolates U+2066–U+2069), Zl or Zp (line and paragraph separators), and neither first nor last of category Zs
    /// (spaces). Names are shown in terminals and logs; these are the scalars that can hide or reorder text there.
    public static func isValidPeerName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (1...Limits.maximumPeerNameLength).contains(scalars.count) else { return false }
        for scalar in scalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: return false
            default: continue
            }
        }
        return scalars.first!.properties.generalCategory != .spaceSeparator
            && scalars.last!.properties.generalCategory != .spaceSeparator
    }

    /// Validates a network name, failing with `invalid_value`.
    public static func checkNetworkName(_ name: String) throws(ProtocolError) {
        guard isValidNetworkName(name) else {
            throw ProtocolError(.invalidValue, "network names are 1-63 characters of a-z, 0-9 and '-', not starting with '-'")
        }
    }
}
