/// The DNS names of peers (PROTOCOL.md §6.13): each peer is `<dns_name>.<dns_domain>`, where `dns_name` is one label
/// the hub derives from the peer's display name and keeps unique within the network, and `dns_domain` is
/// `<network>.<suffix>` with a suffix configured per network (default `rift`).
public enum DNSNames {
    /// The longest label (RFC 1035 §2.3.4).
    public static let maximumLabelLength = 63
    /// The longest domain a hub may announce, so that `<label>.<domain>` stays within RFC 1035's 253 characters.
    public static let maximumDomainLength = 189
    /// The label used when a display name holds no ASCII letter or digit.
    public static let fallbackLabel = "peer"
    /// The suffix a network gets unless its administrator chooses another.
    public static let defaultSuffix = "rift"

    /// Whether `label` is a hostname label as riftgate uses them: 1–63 of `a-z`, `0-9` and `-`, not starting or
    /// ending with `-` (lower case only: DNS compares case-insensitively, and one spelling keeps names unique).
    public static func isValidLabel(_ label: String) -> Bool {
        let scalars = Array(label.unicodeScalars)
        guard (1...maximumLabelLength).contains(scalars.count), scalars.first != "-", scalars.last != "-" else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// Whether `domain` is 1 to 4 valid labels joined by dots, at most `maximumDomainLength` characters, without a
    /// trailing dot, and not under `local` (mDNS owns it) or a label of digits only at the end (it would read as an
    /// address).
    public static func isValidDomain(_ domain: String) -> Bool {
        guard (1...maximumDomainLength).contains(domain.utf8.count) else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (1...4).contains(labels.count), labels.allSatisfy(isValidLabel) else { return false }
        guard let last = labels.last, last != "local", !last.allSatisfy(\.isNumber) else { return false }
        return true
    }

    /// Whether `suffix` may follow a network name: a valid domain of at most 3 labels and 125 characters (a network
    /// name takes up to 63 characters and one dot).
    public static func isValidSuffix(_ suffix: String) -> Bool {
        suffix.utf8.count <= maximumDomainLength - Limits.maximumNetworkNameLength - 1
            && suffix.split(separator: ".").count <= 3 && isValidDomain(suffix)
    }

    /// The label a hub derives from a display name (PROTOCOL.md §6.13): ASCII letters lower-cased, ASCII digits kept,
    /// every run of anything else (spaces, dots, underscores, non-ASCII) one `-`, no `-` at either end, at most
    /// `maximumLength` characters; `peer` when nothing is left.
    public static func label(derivedFrom name: String, maximumLength: Int = maximumLabelLength) -> String {
        var label = ""
        var pendingDash = false
        for scalar in name.unicodeScalars {
            let character: Character?
            switch scalar {
            case "a"..."z", "0"..."9": character = Character(scalar)
            case "A"..."Z": character = Character(Unicode.Scalar(scalar.value + 32)!)
            default: character = nil
            }
            guard let character else { pendingDash = !label.isEmpty; continue }
            if pendingDash { label.append("-"); pendingDash = false }
            label.append(character)
        }
        if label.count > maximumLength {
            label = String(label.prefix(maximumLength))
            while label.hasSuffix("-") { label.removeLast() }
        }
        return label.isEmpty ? fallbackLabel : label
    }

    /// The `n`-th candidate for a peer whose derived label is `base` (n = 1 is `base` itself; then `base-2`,
    /// `base-3`, …), shortened so that the result is a valid label.
    public static func candidate(_ base: String, _ n: Int) -> String {
        guard n > 1 else { return base }
        let tail = "-\(n)"
        var head = String(base.prefix(maximumLabelLength - tail.count))
        while head.hasSuffix("-") { head.removeLast() }
        return head + tail
    }

    /// Checks a `dns_name` read from the wire, failing with `invalid_value`.
    static func checkLabel(_ label: String, _ field: String) throws(ProtocolError) {
        guard isValidLabel(label) else {
            throw ProtocolError(.invalidValue, "\(field) must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'")
        }
    }

    /// Checks a `dns_domain` read from the wire, failing with `invalid_value`.
    static func checkDomain(_ domain: String, _ field: String) throws(ProtocolError) {
        guard isValidDomain(domain) else {
            throw ProtocolError(.invalidValue, "\(field) must be 1-4 labels of a-z, 0-9 and '-' joined by dots, at most \(maximumDomainLength) characters, not ending in \"local\" or a number")
        }
    }
}
