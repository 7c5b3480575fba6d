import RiftProtocol
import Testing

/// A sealed box travels as the base64 text it arrived in: checked as strictly as decoding would, passed on unchanged.
@Suite("Sealed box text")
struct SealedBoxTextTests {
    static let key = try! PublicKey(bytes: Array(1...32))
    static let recipient = try! PublicKey(bytes: Array(repeating: 9, count: 32))

    static func offer(nonce: String, box: String) -> String {
        #"{"type":"offer","to":"\#(recipient.base64)","sealed":{"nonce":"\#(nonce)","box":"\#(box)"}}"#
    }

    @Test("canonicalByteCount accepts exactly what decode accepts, with the same length")
    func countMatchesDecode() {
        var texts = ["", "AA==", "AAA=", "AAAA", "AB==", "AAB=", "A===", "====", "AA=A", "AAAAA", "AA", "+/+/", "-_-_", "AA==AAAA",
                     "ZXhhbXBsZQ==", "ZXhhbXBsZR==", "ZXhhbXBsZTE=", "ZXhhbXBsZTF=", "ZXhh\nbXBs", "ZXhhbXBsZTEy"]
        for length in 0..<40 { texts.append(Base64.encode((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })) }
        for text in texts {
            #expect(Base64.canonicalByteCount(text) == Base64.decode(text)?.count, "\(text)")
        }
    }

    @Test("a relayed signal carries the sender's nonce and box text unchanged")
    func textPassesThrough() throws {
        let nonce = Base64.encode(Array(repeating: 7, count: 24))
        let box = Base64.encode(Array(0..<200))
        guard case .signal(let outgoing) = try ClientMessage.decode(Self.offer(nonce: nonce, box: box)) else {
            Issue.record("not a signal")
            return
        }
        #expect(outgoing.sealed.nonceText == nonce && outgoing.sealed.boxText == box)
        #expect(outgoing.sealed.ciphertext == Array(0..<200) && outgoing.sealed.nonce == Array(repeating: 7, count: 24))
        let relayed = HubMessage.signal(RelayedSignal(kind: outgoing.kind, from: Self.key, sealed: outgoing.sealed))
        let frame = relayed.encoded()
        #expect(frame == JSONWriter.string(relayed.json))
        #expect(frame.contains(#""box":"\#(box)""#) && frame.contains(#""nonce":"\#(nonce)""#))
        #expect(try HubMessage.decode(frame) == relayed)
    }

    @Test("every signal kind's relayed frame is what JSONWriter writes", arguments: SignalKind.allCases)
    func frameMatchesWriter(_ kind: SignalKind) throws {
        let message = HubMessage.signal(RelayedSignal(kind: kind, from: Self.key,
                                                      sealed: SealedBox(nonce: Array(repeating: 1, count: 24), ciphertext: Array(0..<17))))
        #expect(message.encoded() == JSONWriter.string(message.json))
    }

    @Test("non-canonical or wrongly sized sealed text is refused with invalid_value")
    func refusals() {
        let nonce = Base64.encode(Array(repeating: 7, count: 24))
        let box = Base64.encode(Array(0..<17)) // 17 bytes: "AAECAwQFBgcICQoLDA0ODxA="
        let nonCanonicalBox = String(box.dropLast(2)) + "R="  // a padding bit set
        let cases = [
            Self.offer(nonce: nonce, box: nonCanonicalBox),
            Self.offer(nonce: nonce, box: String(box.dropLast())),
            Self.offer(nonce: nonce, box: Base64.encode(Array(0..<16))),
            Self.offer(nonce: Base64.encode(Array(repeating: 7, count: 23)), box: box),
            Self.offer(nonce: "*" + String(nonce.dropFirst()), box: box),
            Self.offer(nonce: nonce, box: Base64.encode(Array(repeating: 0, count: Limits.maximumSealedBytes + 1))),
        ]
        #expect(Base64.decode(nonCanonicalBox) == nil)
        for frame in cases {
            #expect(throws: ProtocolError.self) { try ClientMessage.decode(frame) }
            do { _ = try ClientMessage.decode(frame) } catch { #expect(error.code == .invalidValue, "\(error)") }
        }
        #expect((try? ClientMessage.decode(Self.offer(nonce: nonce, box: box))) != nil)
    }

    @Test("bytes set through the properties update the text")
    func settersEncode() {
        var sealed = SealedBox(nonce: Array(repeating: 7, count: 24), ciphertext: Array(0..<40))
        sealed.ciphertext[3] ^= 1
        #expect(sealed.ciphertext[3] == 2 && sealed.boxText == Base64.encode(sealed.ciphertext))
        sealed.nonce = Array(repeating: 8, count: 24)
        #expect(sealed.nonceText == Base64.encode(Array(repeating: 8, count: 24)))
    }
}
