public import RiftCluster
public import RiftProtocol

/// Repair of lost presence (docs/architecture.md, "Encoding"): broadcasts are at most once, so a hub that sees a gap in
/// another hub's broadcast sequence (still there `lossGraceSeconds` later: not just out of order), or whose own bus
/// came back, asks that hub for its sessions; a snapshot whose parts all arrived replaces what the table holds for it.
extension ClusterState {
    /// Broadcast sequences of one hub not seen although a later one was.
    struct BroadcastGap: Sendable {
        /// The missing sequences (some may arrive late; the window tells).
        var missing: ClosedRange<Int64>
        /// When the first of them was found missing (monotonic seconds).
        var since: Double
    }

    /// The snapshot of one hub being received: which part comes next and the sessions listed so far.
    struct SnapshotAssembly: Sendable {
        var id: Int64
        var nextPart: Int64
        var listed: Set<String>
    }

    /// What one snapshot part changed.
    public struct SnapshotOutcome: Sendable {
        /// Each session the part listed with what it changed (in the part's order).
        public var claims: [(session: ClusterSession, outcome: ClaimOutcome)] = []
        /// Sessions of the origin that its complete snapshot no longer lists: removed from the table (sorted).
        public var removed: [ClusterSession] = []
    }

    /// Applies a part of hub `origin`'s snapshot: adds and updates the sessions it lists; when it is the last part and
    /// every part of that snapshot arrived in order, removes the origin's sessions it did not list (except those set
    /// by a broadcast newer than the snapshot), forgets the origin's gaps the snapshot covers and the pending request.
    public mutating func applySnapshot(_ part: SessionsSnapshot, from origin: String) -> SnapshotOutcome {
        var outcome = SnapshotOutcome()
        guard origin != hubID else { return outcome }
        for session in part.sessions {
            outcome.claims.append((session, applyClaim(session, from: origin, sequence: part.broadcastSequence)))
        }
        var assembly: SnapshotAssembly?
        if part.part == 0 {
            assembly = SnapshotAssembly(id: part.id, nextPart: 0, listed: [])
        } else if let current = assemblies[origin], current.id == part.id, current.nextPart == part.part {
            assembly = current
        }
        // A part of this snapshot was lost (or parts of two snapshots interleave): it only adds and updates.
        guard var assembly else { assemblies[origin] = nil; return outcome }
        assembly.listed.formUnion(part.sessions.lazy.filter { $0.hubID == origin }.map(\.session))
        assembly.nextPart += 1
        guard !part.more else { assemblies[origin] = assembly; return outcome }
        assemblies[origin] = nil
        snapshotRequested[origin] = nil
        if let gap = gaps[origin] {
            gaps[origin] = gap.missing.upperBound <= part.broadcastSequence ? nil
                : BroadcastGap(missing: max(gap.missing.lowerBound, part.broadcastSequence + 1)...gap.missing.upperBound, since: gap.since)
        }
        for (network, table) in sessions {
            for (key, session) in table where session.hubID == origin && !assembly.listed.contains(session.session)
                && entrySequences[session.session, default: 0] <= part.broadcastSequence {
                outcome.removed.append(session)
                remove(key, in: network)
            }
        }
        outcome.removed.sort { ($0.network, $0.key) < ($1.network, $1.key) }
        return outcome
    }

    /// The hubs whose snapshot to ask for at `now`: those with broadcasts still missing `lossGraceSeconds` after a
    /// later one arrived, unless asked less than `snapshotRetrySeconds` ago. Marks them as asked. Nothing while the
    /// bus is disconnected.
    public mutating func snapshotRequestsDue(now: Double) -> [String] {
        guard isConnected else { return [] }
        var due: [String] = []
        for (hub, gap) in gaps.sorted(by: { $0.key < $1.key }) where now - gap.since >= lossGraceSeconds {
            let window = windows[hub + "|b"] ?? SequenceWindow()
            guard gap.missing.contains(where: { window.isMissing($0) }) else {
                gaps[hub] = nil  // everything arrived, out of order
                continue
            }
            if let asked = snapshotRequested[hub], now - asked < snapshotRetrySeconds { continue }
            snapshotRequested[hub] = now
            due.append(hub)
        }
        for (hub, asked) in snapshotRequested.sorted(by: { $0.key < $1.key })
            where now - asked >= snapshotRetrySeconds && !due.contains(hub) && lastHeard[hub] != nil {
            snapshotRequested[hub] = now  // asked, and no complete snapshot came: ask again
            due.append(hub)
        }
        return due
    }

    /// Every known hub, marked as asked for its snapshot at `now`: after this hub's own bus came back, anything of
    /// theirs may have been missed.
    public mutating func requestSnapshotsFromEveryone(now: Double) -> [String] {
        let hubs = knownHubs
        for hub in hubs { snapshotRequested[hub] = now }
        return hubs
    }

    /// Records that `missing` broadcasts of `hub` were skipped at `now` (merged with an earlier gap of that hub).
    mutating func noteGap(from hub: String, missing: ClosedRange<Int64>, now: Double) {
        if let known = gaps[hub] {
            gaps[hub] = BroadcastGap(missing: min(known.missing.lowerBound, missing.lowerBound)...max(known.missing.upperBound, missing.upperBound),
                                     since: known.since)
        } else {
            gaps[hub] = BroadcastGap(missing: missing, since: now)
        }
    }
}
