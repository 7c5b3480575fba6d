import RiftCluster
import RiftProtocol
import Testing

/// ClusterMessage: every body survives encoding and decoding, and malformed messages fail with the protocol's codes.
@Suite struct ClusterMessageTests {
    static func key(_ byte: UInt8) -> PublicKey { try! PublicKey(bytes: [UInt8](repeating: byte, count: 32)) }

    static let session = ClusterSession(network: "home", key: key(1), session: "hub-2-5f3a9c1e/17", claimedAtMilliseconds: 1_764_560_000_123)

    static let samples: [ClusterMessage] = [
        ClusterMessage(hub: "hub-1-0a1b2c3d", sequence: 1, body: .signal(ClusterSignal(
            network: "home", to: key(2),
            signal: RelayedSignal(kind: .offer, from: key(3), sealed: SealedBox(
                nonce: [UInt8](repeating: 7, count: SealedBox.nonceBytes), ciphertext: [UInt8](0..<40)))))),
        ClusterMessage(hub: "hub-2-5f3a9c1e", sequence: 2, body: .sessionClaimed(session)),
        ClusterMessage(hub: "hub-2-5f3a9c1e", sequence: 3, body: .sessionEnded(SessionEnd(
            network: "home", key: key(1), session: "hub-2-5f3a9c1e/17", reason: .timeout))),
        ClusterMessage(hub: "hub-3", sequence: 9_000_000_000, body: .hubAlive(HubAlive(broadcastSequence: 8_999_999_999, sessionCount: 20_000))),
        ClusterMessage(hub: "hub-1-0a1b2c3d", sequence: 4, body: .signal(ClusterSignal(
            network: "home", to: key(2), signal: RelayedSignal(kind: .candidate, from: key(3), sealed: SealedBox(
                nonce: [UInt8](repeating: 1, count: SealedBox.nonceBytes), ciphertext: [UInt8](0..<20))), forwarded: true))),
        ClusterMessage(hub: "hub-1-0a1b2c3d", sequence: 5, body: .sessionsRequest),
        ClusterMessage(hub: "hub-2-5f3a9c1e", sequence: 6, body: .sessionsSnapshot(SessionsSnapshot(
            id: 3, part: 0, broadcastSequence: 41, sessions: [session, session], more: true))),
        ClusterMessage(hub: "hub-2-5f3a9c1e", sequence: 7, body: .sessionsSnapshot(SessionsSnapshot(
            id: 3, part: 1, broadcastSequence: 41, sessions: [], more: false))),
        ClusterMessage(hub: "hub-2-5f3a9c1e", sequence: 8, body: .sessionClaimed(described)),
    ]

    /// A claim carrying the peer as its hub admitted it.
    static let described = ClusterSession(
        network: "home", key: key(1), session: "hub-2-5f3a9c1e/18", claimedAtMilliseconds: 1_764_560_000_124,
        peer: PeerInfo(publicKey: key(1), name: "laptop", ipv4: IPv4Address("100.64.0.7")!, ipv6: IPv6Address("fd00::7")!,
                       dnsName: "laptop", exitNode: true), tokenID: "k2mzq7wdx4")

    @Test func aClaimedPeerMustBeTheClaimedKey() throws {
        var claim = Self.described
        claim.peer?.publicKey = Self.key(2)
        let text = ClusterMessage(hub: "hub-2-5f3a9c1e", sequence: 1, body: .sessionClaimed(claim)).encoded
        #expect(throws: ProtocolError.self) { try ClusterMessage.decode(text) }
        #expect(Self.described.hubID == "hub-2-5f3a9c1e")
    }

    @Test(arguments: samples) func roundTrips(_ message: ClusterMessage) throws {
        let decoded = try ClusterMessage.decode(message.encoded)
        #expect(decoded == message)
        #expect(decoded.encoded == message.encoded)  // the writer is deterministic (sorted keys)
    }

    @Test func broadcastAndSignalStreams() {
        #expect(Self.samples.map(\.isBroadcast) == [false, true, true, true, false, false, false, false, true])
    }

    @Test func readsTheDocumentedFieldNames() throws {
        let text = """
            {"type":"session_ended","hub":"hub-1","seq":12,"network":"home","key":"\(Self.key(1).base64)",\
            "session":"hub-1/3","reason":"revoked"}
            """
        let message = try ClusterMessage.decode(Array(text.utf8))
        #expect(message == ClusterMessage(hub: "hub-1", sequence: 12, body: .sessionEnded(SessionEnd(
            network: "home", key: Self.key(1), session: "hub-1/3", reason: .revoked))))
    }

    @Test(arguments: [
        (#"{"type":"hub_alive","hub":"hub-1","seq":1,"broadcast_seq":0}"#, ErrorCode.missingField),
        (#"{"type":"hub_alive","hub":"hub-1","seq":0,"broadcast_seq":0,"sessions":1}"#, .invalidValue),  // seq from 1
        (#"{"type":"hub_alive","hub":"Hub 1","seq":1,"broadcast_seq":0,"sessions":1}"#, .invalidValue),  // not subject-safe
        (#"{"type":"hub_alive","hub":"hub.1","seq":1,"broadcast_seq":0,"sessions":1}"#, .invalidValue),  // a dot splits subjects
        (#"{"type":"gossip","hub":"hub-1","seq":1}"#, .unknownType),
        (#"{"type":"session_ended","hub":"hub-1","seq":1,"network":"home","key":"AAAA","session":"hub-1/3","reason":"revoked"}"#, .invalidValue),
        (#"{"type":"admin_change","hub":"a","seq":1,"change":"peer_revoked","network":"home"}"#, .unknownType),
        (#"{"type":"sessions_snapshot","hub":"a","seq":1,"snapshot":1,"part":0,"broadcast_seq":0,"sessions":{},"more":false}"#, .wrongType),
        (#"{"type":"sessions_snapshot","hub":"a","seq":1,"snapshot":0,"part":0,"broadcast_seq":0,"sessions":[],"more":false}"#, .invalidValue),
        (#"{"type":"sessions_snapshot","hub":"a","seq":1,"sessions":[],"more":false}"#, .missingField),
        (#"{"type":"session_claimed","hub":"a","seq":1,"network":"home","key":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=","session":"a/1","claimed_at_ms":1,"token_id":""}"#, .invalidValue),
        (#"{"type":"session_claimed","hub":"a","seq":1,"network":"home","key":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=","session":"a/1","claimed_at_ms":1,"token_id":7}"#, .wrongType),
        (#"[1]"#, .notAnObject),
        (#"{"type":"#, .malformedJSON),
    ]) func refusesMalformedMessages(_ text: String, _ code: ErrorCode) {
        #expect {
            _ = try ClusterMessage.decode(Array(text.utf8))
        } throws: { error in
            (error as? ProtocolError)?.code == code
        }
    }

    @Test func ignoresFieldsALaterHubAdds() throws {
        let claim = #"{"type":"session_claimed","hub":"a","seq":1,"network":"home","key":"\#(Self.key(1).base64)","#
            + #""session":"a/1","claimed_at_ms":1,"token_id":"t1","region":"eu"}"#
        #expect(try ClusterMessage.decode(Array(claim.utf8)) == ClusterMessage(hub: "a", sequence: 1, body: .sessionClaimed(
            ClusterSession(network: "home", key: Self.key(1), session: "a/1", claimedAtMilliseconds: 1, tokenID: "t1"))))
        let alive = #"{"type":"hub_alive","hub":"hub-1","seq":1,"broadcast_seq":0,"sessions":1,"load":0.5}"#
        #expect(try ClusterMessage.decode(Array(alive.utf8)).body == .hubAlive(HubAlive(broadcastSequence: 0, sessionCount: 1)))
        let snapshot = #"{"type":"sessions_snapshot","hub":"a","seq":1,"snapshot":1,"part":0,"broadcast_seq":0,"more":false,"#
            + #""sessions":[{"network":"home","key":"\#(Self.key(1).base64)","session":"a/1","claimed_at_ms":1,"x":[]}]}"#
        guard case .sessionsSnapshot(let part) = try ClusterMessage.decode(Array(snapshot.utf8)).body else {
            Issue.record("not a snapshot")
            return
        }
        #expect(part.sessions.map(\.session) == ["a/1"])
        // A known field with a wrong value is still refused.
        let wrong = claim.replacing(#""claimed_at_ms":1"#, with: #""claimed_at_ms":"1""#)
        #expect(throws: ProtocolError.self) { try ClusterMessage.decode(Array(wrong.utf8)) }
    }

    @Test func refusesBadSessionIDs() {
        for session in ["hub-1", "hub-1/", "/3", "hub-1/x", "Hub/3"] {
            let text = """
                {"type":"session_claimed","hub":"hub-1","seq":1,"network":"home","key":"\(Self.key(1).base64)",\
                "session":"\(session)","claimed_at_ms":1}
                """
            #expect(throws: ProtocolError.self, "\(session)") { try ClusterMessage.decode(Array(text.utf8)) }
        }
    }

    @Test func subjects() {
        #expect(ClusterSubject.signals(hubID: "hub-1-5f3a") == "rift.hub.hub-1-5f3a.signals")
        #expect(ClusterSubject.sessions(hubID: "hub-1-5f3a") == "rift.hub.hub-1-5f3a.sessions")
        #expect(ClusterSubject.presence(network: "home") == "rift.home.presence")
        #expect(ClusterSubject.alive(hubID: "hub-1-5f3a") == "rift.hub.hub-1-5f3a.alive")
    }
}
