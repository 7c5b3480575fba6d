public import RiftProtocol
import RiftStore

/// What `HubDatabase.renamePeer` did, for the admin CLI to explain.
public struct PeerRenaming: Sendable, Hashable {
    /// The peer before the rename.
    public var before: PeerInfo
    /// The peer after it: the new name and DNS name.
    public var after: PeerInfo
    /// The label derived from the new name when another peer holds it, so that `after.dnsName` is a numbered one
    /// (or the one the peer kept); nil when the label was free or the administrator chose the label.
    public var takenLabel: String?
    /// The peer holding `takenLabel`.
    public var takenBy: PeerInfo?
}

extension HubDatabase {
    /// `name_source` of a peer whose name the administrator set.
    static let adminNameSource = "admin"

    /// Renames a peer of `network` (PROTOCOL.md §6.13): `name` is checked as the hub checks `hello.name`; the DNS label
    /// is `dnsName` when given (refused when invalid or held by another peer, never numbered), else derived from the
    /// name and numbered when another peer holds it, all in one transaction. The name sticks: later joins keep it.
    /// A running hub announces it within about a second. Fails with `invalidInput`, `unknownNetwork` or `unknownPeer`.
    public func renamePeer(network: String, publicKey: PublicKey, name: String, dnsName requested: String?) throws(HubStoreError) -> PeerRenaming {
        guard Names.isValidPeerName(name) else {
            throw HubStoreError(.invalidInput, "invalid peer name \(Self.quoted(name)): use 1-63 Unicode characters without control, format (invisible or bidirectional) or line-separator characters, not starting or ending with a space")
        }
        if let requested, !DNSNames.isValidLabel(requested) {
            throw HubStoreError(.invalidInput, "invalid DNS name \(Self.quoted(requested)): use 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-' (one label, without the domain)")
        }
        try requireNetwork(network)
        let networkName = SQLiteValue.text(network), key = SQLiteValue.text(publicKey.base64)
        return try write { () throws -> PeerRenaming in
            guard let row = try database.query("SELECT public_key, name, ipv4, ipv6, revoked_at, dns_name FROM peers WHERE network = ? AND public_key = ?",
                                               [networkName, key]).first else {
                throw HubStoreError(.unknownPeer, "no peer \(publicKey) in network \"\(network)\"")
            }
            let before = try Self.peerInfo(row, dnsNameColumn: 5)
            guard row.integer(4) == nil else {
                throw HubStoreError(.invalidInput, "peer \(publicKey) of network \"\(network)\" is revoked; it cannot be renamed")
            }
            var renaming = PeerRenaming(before: before, after: before)
            renaming.after.name = name
            if let requested {
                if let holder = try labelHolder(requested, network: networkName), holder.publicKey != publicKey {
                    throw HubStoreError(.invalidInput, "DNS name \(requested) is taken in network \"\(network)\" by \(Self.describe(holder)); choose another, or rename that peer first")
                }
                renaming.after.dnsName = requested
            } else {
                let base = DNSNames.label(derivedFrom: name)
                if let holder = try labelHolder(base, network: networkName), holder.publicKey != publicKey {
                    renaming.takenLabel = base
                    renaming.takenBy = holder
                    renaming.after.dnsName = try dnsName(for: name, keeping: before.dnsName, network: networkName, key: key)
                } else {
                    renaming.after.dnsName = base
                }
            }
            // The sequence is hub-wide, so a running hub asks for "every admin rename after N" with one indexed query.
            let revision = try database.query("SELECT COALESCE(MAX(name_revision), 0) + 1 FROM peers").first?.requiredInteger(0) ?? 1
            try database.run("""
                UPDATE peers SET name = ?, dns_name = ?, name_source = ?, name_revision = ? WHERE network = ? AND public_key = ?
                """, [.text(name), .text(renaming.after.dnsName!), .text(Self.adminNameSource), .integer(revision), networkName, key])
            return renaming
        }
    }

    /// The admin renames after `revision` (see `HubDirectory.adminRenames`), oldest first.
    func renames(after revision: Int64) throws(HubStoreError) -> [PeerRename] {
        try read { () throws(SQLiteError) in
            var renames: [PeerRename] = []
            for row in try database.query("""
                SELECT network, public_key, name, dns_name, name_revision FROM peers
                WHERE name_revision > ? AND revoked_at IS NULL ORDER BY name_revision
                """, [.integer(revision)]) {
                guard let key = try? PublicKey(base64: try row.requiredText(1)) else { continue }
                renames.append(PeerRename(peer: PeerAddress(network: try row.requiredText(0), publicKey: key), name: try row.requiredText(2),
                                          dnsName: row.text(3), revision: try row.requiredInteger(4)))
            }
            return renames
        }
    }

    /// The peer of the network holding DNS label `label`, if any.
    private func labelHolder(_ label: String, network: SQLiteValue) throws(SQLiteError) -> PeerInfo? {
        try database.query("SELECT public_key, name, ipv4, ipv6, dns_name FROM peers WHERE network = ? AND dns_name = ?",
                           [network, .text(label)]).first.map { row throws(SQLiteError) in try Self.peerInfo(row, dnsNameColumn: 4) }
    }

    /// A peer as an error message names it: the start of its key and its name.
    static func describe(_ peer: PeerInfo) -> String { "\(keyPrefix(peer.publicKey)) (\(quoted(peer.name)))" }

    /// The first characters of a key, enough to tell peers apart and to address one with the peer commands.
    static func keyPrefix(_ key: PublicKey) -> String { String(key.base64.prefix(8)) + "…" }

    /// `text` in double quotes, with the scalars that could hide or reorder text in a terminal (those a peer name may
    /// not hold) written as `\u{…}`.
    static func quoted(_ text: String) -> String {
        let shown = text.unicodeScalars.map { scalar -> String in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: String(scalar)
            }
        }
        return "\"" + shown.joined() + "\""
    }
}
