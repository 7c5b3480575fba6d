import RiftProtocol
import Testing

@Suite("Round trips")
struct RoundTripTests {
    let keyA = try! PublicKey(bytes: Array(1...32))
    let keyB = try! PublicKey(bytes: Array(101...132))
    let sealed = SealedBox(nonce: Array(repeating: 7, count: 24), ciphertext: Array(0..<40))

    @Test("client messages survive encode then decode")
    func clientMessages() throws {
        let messages: [ClientMessage] = [
            .hello(Hello(version: 1, publicKey: keyA, name: "host \"quoted\"\n", proof: sealed, id: nil)),
            .iceServers(ICEServersRequest()), .iceServers(ICEServersRequest(id: "netcheck")),
        ] + SignalKind.allCases.map { .signal(OutgoingSignal(kind: $0, to: keyB, sealed: sealed, id: "x")) }
        for message in messages {
            let text = message.encoded()
            if case .hello = message {
                // A newline in a name is a control character: the encoder writes it, the decoder must refuse it.
                #expect(throws: ProtocolError.self) { try ClientMessage.decode(text) }
            } else {
                #expect(try ClientMessage.decode(text) == message)
            }
        }
    }

    @Test("hub messages survive encode then decode")
    func hubMessages() throws {
        let peer = PeerInfo(publicKey: keyB, name: "b", ipv4: IPv4Address("100.64.0.9")!, ipv6: IPv6Address("fd00::9")!)
        let ice = ICEServers(stun: ["stun:h:3478"], turn: [TURNServer(urls: ["turn:h:3478"], username: "1:x", credential: "c", expiresAt: 1)])
        let messages: [HubMessage] = [
            .challenge(Challenge(versions: [1], hubKey: keyA, nonce: Array(repeating: 1, count: 32))),
            .welcome(Welcome(version: 1, network: "home", me: peer, ipv4Prefix: IPv4Prefix("100.64.0.0/10")!,
                             ipv6Prefix: IPv6Prefix("fd00::/64")!, peers: [peer], ice: ice, heartbeatSeconds: 20)),
            .peerJoined(peer), .peerLeft(PeerLeft(publicKey: keyB, reason: "timeout")),
            .signal(RelayedSignal(kind: .answer, from: keyA, sealed: sealed)), .iceServers(ice),
            .error(ErrorFrame(ProtocolError(.peerNotFound, "gone"), ref: "r")),
        ]
        for message in messages {
            #expect(try HubMessage.decode(message.encoded()) == message)
        }
    }

    @Test("signal payloads survive encode then decode, and reject unknown fields")
    func payloads() throws {
        let offer = SignalPayload(
            kind: .offer, from: keyA, to: keyB, session: "s1", generation: 3,
            body: .description(ICEDescription(ufrag: "uf+/", pwd: "0123456789ABCDEFabcdef", candidates: ["candidate:1 1 UDP 1 192.0.2.1 5 typ host"]),
                               WireGuardParameters(publicKey: keyA, listenPort: 51820)))
        #expect(try SignalPayload.decode(offer.encoded()) == offer)
        for body in [SignalPayload.Body.candidate("candidate:x"), .endOfCandidates, .restart(reason: "consent lost")] {
            let kind: SignalKind = switch body { case .candidate: .candidate; case .endOfCandidates: .endOfCandidates; default: .restart }
            let payload = SignalPayload(kind: kind, from: keyA, to: keyB, session: "s", generation: 0, body: body)
            #expect(try SignalPayload.decode(payload.encoded()) == payload)
        }
        let extra = Array(#"{"type":"end_of_candidates","from":"\#(keyA)","to":"\#(keyB)","session":"s","generation":0,"x":1}"#.utf8)
        #expect(throws: ProtocolError(.unknownField, "payload has an unknown field \"x\"")) { try SignalPayload.decode(extra) }
    }

    @Test("relay_only: carried by offers when true, omitted when false, refused anywhere else or with a non-boolean")
    func relayOnly() throws {
        let description = SignalPayload.Body.description(ICEDescription(ufrag: "uf+/", pwd: "0123456789ABCDEFabcdef", candidates: []),
                                                         WireGuardParameters(publicKey: keyA, listenPort: 51820))
        let relayOffer = SignalPayload(kind: .offer, from: keyA, to: keyB, session: "s", generation: 2, body: description, relayOnly: true)
        let text = String(decoding: relayOffer.encoded(), as: UTF8.self)
        #expect(text.contains(#""relay_only":true"#))
        #expect(try SignalPayload.decode(relayOffer.encoded()).relayOnly)
        let plainOffer = SignalPayload(kind: .offer, from: keyA, to: keyB, session: "s", generation: 2, body: description)
        #expect(!String(decoding: plainOffer.encoded(), as: UTF8.self).contains("relay_only"), "false is omitted")
        #expect(try SignalPayload.decode(plainOffer.encoded()).relayOnly == false)
        // An explicit false is accepted and means the same as absence.
        let explicitFalse = text.replacing(#""relay_only":true"#, with: #""relay_only":false"#)
        #expect(try SignalPayload.decode(Array(explicitFalse.utf8)) == plainOffer)
        let notBoolean = text.replacing(#""relay_only":true"#, with: #""relay_only":1"#)
        #expect(throws: ProtocolError(.wrongType, "payload.relay_only must be a boolean, not number")) {
            try SignalPayload.decode(Array(notBoolean.utf8))
        }
        let answer = text.replacing(#""type":"offer""#, with: #""type":"answer""#)
        #expect(throws: ProtocolError(.unknownField, "payload has an unknown field \"relay_only\"")) { try SignalPayload.decode(Array(answer.utf8)) }
        let relayAnswer = SignalPayload(kind: .answer, from: keyB, to: keyA, session: "s", generation: 2, body: description, relayOnly: true)
        #expect(!relayAnswer.relayOnly, "only offers carry the decision")
    }

    @Test("every error code round-trips through its raw value")
    func errorCodes() {
        for code in ErrorCode.allCases { #expect(ErrorCode(rawValue: code.rawValue) == code) }
        #expect(ErrorCode.unauthorized.isPermanent && !ErrorCode.rateLimited.isPermanent)
    }
}
