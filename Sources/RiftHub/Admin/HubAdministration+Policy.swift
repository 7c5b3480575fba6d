import RiftProtocol

extension HubAdministration {
    /// `policy set`: validates `text` against the tags in use in the network (line, rule and unknown tag in the
    /// error) and stores it; a running hub applies it to live sessions within about a second.
    public func setPolicy(network: String, text: String) throws(HubStoreError) -> String {
        let known = try database.knownTags(network: network)
        let policy: AccessPolicy
        do {
            policy = try AccessPolicy(parsing: text, knownTags: known)
        } catch {
            throw HubStoreError(.invalidInput, "policy not changed: \(error)")
        }
        try database.setPolicy(network: network, text: text, now: now())
        return "Set the policy of network \(network): \(policy.rules.count) rule\(policy.rules.count == 1 ? "" : "s"); a running hub applies it within seconds.\n"
    }

    /// `policy clear`: everyone reaches everyone again.
    public func clearPolicy(network: String) throws(HubStoreError) -> String {
        try database.setPolicy(network: network, text: nil, now: now())
        return "Removed the policy of network \(network): every peer reaches every other again.\n"
    }

    /// `policy show`: the stored rules, or a note that there are none.
    public func showPolicy(network: String) throws(HubStoreError) -> String {
        guard let text = try database.policyText(network: network) else {
            return "# network \(network) has no policy: every peer reaches every other\n"
        }
        return text.isEmpty ? "# network \(network) has an empty policy: no peer reaches another\n" : text
    }

    /// `peer tag`: replaces the tags of a peer (given by key or by name).
    public func tagPeer(network: String, peer: String, tags: [String]) throws(HubStoreError) -> String {
        let record = try resolvePeer(network: network, peer)
        try database.setPeerTags(network: network, publicKey: record.info.publicKey, tags: Set(tags))
        let shown = tags.isEmpty ? "no tags" : "tags " + HubDatabase.tagText(Set(tags))
        return "Peer \(record.info.name) (\(record.info.publicKey)) now has \(shown); a running hub applies this within seconds.\n"
    }

    /// `policy check`: explains whether `from` may open a connection to `to` (on `port`, e.g. `tcp/22`), naming the
    /// rules that decide. `from` and `to` are peer names, public keys or `tag:NAME`. Returns the text and the verdict.
    public func checkPolicy(network: String, from: String, to: String, port: String?) throws(HubStoreError) -> (text: String, allowed: Bool) {
        var probe: (PortRule.Transport, UInt16)?
        if let port {
            guard let rule = PortRule(port), rule.lowPort == rule.highPort else {
                throw HubStoreError(.invalidInput, "\"\(port)\" is not a port such as tcp/22 or udp/53")
            }
            probe = (rule.transport, rule.lowPort)
        }
        let source = try subject(network: network, from), destination = try subject(network: network, to)
        let what = "\(source.label) -> \(destination.label)" + (port.map { " on \($0)" } ?? "")
        guard let text = try database.policyText(network: network) else {
            return ("\(what): ALLOWED (network \(network) has no policy: every peer reaches every other)\n", true)
        }
        let policy: AccessPolicy
        do { policy = try AccessPolicy(parsing: text) } catch { throw HubStoreError(.storage, "the stored policy does not parse: \(error)") }
        let forward = policy.decision(from: source.tags, to: destination.tags)
        let backward = policy.decision(from: destination.tags, to: source.tags)
        var lines: [String] = []
        let allowed: Bool
        if let (transport, number) = probe {
            allowed = forward.allows(transport, port: number)
        } else {
            allowed = forward.isAllowed
        }
        if forward.isAllowed {
            let scope = forward.ports.map { "only " + $0.map(\.description).joined(separator: ", ") } ?? "every port"
            lines.append("\(what): \(allowed ? "ALLOWED" : "DENIED") (\(source.label) may open \(scope) on \(destination.label))")
            for rule in forward.matchedRules { lines.append("  matched \(rule)") }
        } else {
            lines.append("\(what): DENIED (no rule lets \(source.label) reach \(destination.label); a policy allows only what its rules name)")
        }
        if backward.isAllowed {
            lines.append("  the hub still introduces them: \(destination.label) may reach \(source.label) by \(backward.matchedRules.map(\.description).joined(separator: "; "))")
        } else if !forward.isAllowed {
            lines.append("  the hub does not introduce them to each other (no WireGuard peer, signals refused with policy_denied)")
        }
        return (lines.joined(separator: "\n") + "\n", allowed)
    }

    private func subject(network: String, _ text: String) throws(HubStoreError) -> (label: String, tags: Set<String>) {
        if text.hasPrefix("tag:") {
            let tag = String(text.dropFirst(4))
            try HubDatabase.checkTags([tag])
            return ("tag \(tag)", [tag])
        }
        let record = try resolvePeer(network: network, text)
        let tags = (try? database.accessControl(network: network).tags[record.info.publicKey]) ?? nil
        let shown = tags.map { HubDatabase.tagText($0) } ?? "none"
        return ("\(record.info.name) [tags: \(shown)]", tags ?? [])
    }
}
