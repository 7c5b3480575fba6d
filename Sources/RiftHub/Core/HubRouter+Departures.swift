import Logging
import RiftProtocol

/// A peer whose session ended without its access being withdrawn (`disconnected`, `timeout`): its peers may keep a
/// tunnel to it that still works for a while (PROTOCOL.md §6.6), so a revocation or a policy change that comes
/// meanwhile is announced to them too.
///
/// In a cluster every hub remembers the departures it announced, its own sessions' and those of the other hubs, with
/// the token each session presented (`ClusterSession.tokenID`), so that every hub tells its own sessions when a
/// departed peer's token, key or network is withdrawn. A claim from a hub older than that carries no token id: such a
/// departure is noticed as withdrawn with its key or network only.
struct Departure: Sendable, Hashable {
    /// The token its session presented; nil for a departure from another hub whose claim did not name it.
    var tokenID: String?
    /// When it left (the router's monotonic clock).
    var at: Double
}

extension HubRouter {
    /// How long a departed peer's revocation is still announced: longer than agents keep a working tunnel to a peer
    /// the hub no longer lists (`Mesh.absentPeerGraceMilliseconds`, 5 minutes).
    static var departureMemorySeconds: Double { 360 }

    /// Records a departure announced with `reason` (only those that leave the peer's access in place); `tokenID` nil
    /// when the session was on another hub whose claim did not name it.
    mutating func noteDeparture(_ key: PublicKey, in network: String, tokenID: String?, reason: String) {
        guard reason == "disconnected" || reason == "timeout" else { return }
        departures[PeerAddress(network: network, publicKey: key)] = Departure(tokenID: tokenID, at: clock.monotonicSeconds())
    }

    /// At start: the peers connected when the hub last ran (last seen within `departureMemorySeconds` of the latest
    /// last-seen time stored) count as departed from now on, and the first tick rechecks them. The hub's memory of
    /// departures and revocations went with its last run, while its agents' tunnels did not: without this, a peer
    /// revoked while the hub was down (or shortly before it stopped, its announcement missed by an agent off the hub)
    /// was left out of the next welcomes without a word, which agents read as "offline" and kept its tunnel up to 5
    /// minutes. Now its revocation — of its key, of the token it was last admitted with, or of its network — is
    /// announced and told to each session that joins (`noteRevocation`).
    mutating func rememberLastConnectedPeers() {
        let peers: [LastConnectedPeer]
        do {
            peers = try directory.peersLastConnected(window: Int64(Self.departureMemorySeconds))
        } catch {
            logger.error("cannot read the peers connected before the start", metadata: ["error": "\(error)"])
            return
        }
        guard !peers.isEmpty else { return }
        let now = clock.monotonicSeconds()
        for peer in peers { departures[peer.address] = Departure(tokenID: peer.tokenID, at: now) }
        nextRecheck = now
    }

    /// The peer is back, on this hub or another one: nothing departed to announce any more.
    mutating func forgetDeparture(_ key: PublicKey, in network: String) {
        departures[PeerAddress(network: network, publicKey: key)] = nil
    }

    /// The grants of the departures still remembered (older ones are dropped), for `recheckGrants`. A departure without
    /// a token id has a grant that names none (`SessionGrant.unknownToken`).
    mutating func rememberedDepartures(now: Double) -> [SessionGrant: PeerAddress] {
        departures = departures.filter { now - $0.value.at < Self.departureMemorySeconds }
        var grants: [SessionGrant: PeerAddress] = [:]
        for (address, departure) in departures {
            let tokenID = departure.tokenID ?? SessionGrant.unknownToken
            grants[SessionGrant(network: address.network, tokenID: tokenID, publicKey: address.publicKey)] = address
        }
        return grants
    }

    /// Takes the remembered departures' entries out of `withdrawn` (the directory's verdict on `departed` and on the
    /// live sessions' grants) and tells the peers of those withdrawn.
    mutating func announceWithdrawnDepartures(_ departed: [SessionGrant: PeerAddress],
                                              _ withdrawn: inout [SessionGrant: GrantWithdrawal],
                                              _ actions: inout [HubAction<Connection>]) {
        var due: [(address: PeerAddress, reason: GrantWithdrawal)] = []
        for (grant, address) in departed {
            guard let reason = withdrawn.removeValue(forKey: grant) else { continue }
            due.append((address, reason))
        }
        // Only those due are put in order: a dead hub of a cluster leaves thousands of departures for 6 minutes, and
        // sorting them all by their text on every recheck would stall the service thread.
        for (address, reason) in due.sorted(by: { "\($0.address.publicKey)" < "\($1.address.publicKey)" }) {
            announceDepartedRevocation(address, because: "\(reason)", &actions)
        }
    }

    /// The policy or tags of `network` changed: a live session whose access to or from a departed peer changed (what
    /// `allow_in` says, either way) is told that peer left with reason `policy`, so that a tunnel it kept goes with
    /// rules that no longer hold (the peer is introduced afresh, with the new rules, when it rejoins). Only sessions the
    /// old access introduced it to are told.
    mutating func announceDepartedPolicyChanges(in network: String, from previous: NetworkAccess, to current: NetworkAccess,
                                                _ actions: inout [HubAction<Connection>]) {
        let departed = departedPeers(in: network)
        guard !departed.isEmpty else { return }
        for (recipient, connection) in (index[network] ?? [:]).sorted(by: { $0.key < $1.key }) {
            announcePolicyChanges(about: departed, to: connection, recipient: recipient, from: previous, to: current, &actions)
        }
    }

    /// The departed peers of `network`, in key order.
    func departedPeers(in network: String) -> [PublicKey] {
        departures.keys.filter { $0.network == network }.map(\.publicKey).sorted()
    }

    /// Tells `recipient`'s session on `connection` that each of `departed` left with reason `policy` if `previous`
    /// introduced them and `current` changed what `allow_in` says between them, either way. Shared by the live
    /// sessions told at a change and by a session that rejoins having missed one (HubRouter+MissedPolicyChanges).
    func announcePolicyChanges(about departed: [PublicKey], to connection: Connection, recipient: PublicKey,
                               from previous: NetworkAccess, to current: NetworkAccess,
                               _ actions: inout [HubAction<Connection>]) {
        for key in departed
        where previous.introduces(key, recipient) && !previous.grantsTheSame(between: key, and: recipient, as: current) {
            actions.append(.send(.peerLeft(PeerLeft(publicKey: key, reason: PeerLeft.policyReason)), to: connection))
        }
    }

    /// A departed peer's access was withdrawn (`because`: its grant was, or the ephemeral sweep removed it and freed
    /// its address): the live sessions of its network that the policy introduces it to are told it left with reason
    /// `revoked`, so that a tunnel they kept to it goes now (a session that never knew it ignores the notice).
    mutating func announceDepartedRevocation(_ address: PeerAddress, because reason: String,
                                             _ actions: inout [HubAction<Connection>]) {
        departures[address] = nil
        noteRevocation(address.publicKey, in: address.network)
        let access = networkAccess(address.network)
        var told = 0
        for (recipient, connection) in (index[address.network] ?? [:]).sorted(by: { $0.key < $1.key })
        where access.introduces(address.publicKey, recipient) {
            actions.append(.send(.peerLeft(PeerLeft(publicKey: address.publicKey, reason: "revoked")), to: connection))
            told += 1
        }
        logger.notice("departed peer's access withdrawn; its peers told", metadata: [
            "network": "\(address.network)", "peer": "\(address.publicKey)", "reason": "\(reason)", "told": "\(told)",
        ])
    }
}
