@testable import RiftProtocol
import RiftTestSupport
import Testing

/// The hub's fast path for signals (`SignalFrameScanner`) accepts only what the generic decoder accepts, with the same
/// message, and leaves every other frame to it, so `ClientMessage.decode` refuses exactly as before, with the same
/// code and text.
@Suite("Signal frame scanner")
struct SignalFrameScannerTests {
    static let recipient = try! PublicKey(bytes: Array(repeating: 9, count: 32))
    static let nonce = Base64.encode(Array(repeating: 7, count: 24))
    static let box = Base64.encode(Array(0..<40))
    static let frame = #"{"type":"offer","to":"\#(recipient.base64)","sealed":{"nonce":"\#(nonce)","box":"\#(box)"},"id":"m-1"}"#

    /// Checks one text: the fast path's answer, when it has one, is the generic decoder's, and `decode` answers as
    /// the generic decoder does. Returns whether the fast path answered.
    @discardableResult
    static func agree(_ text: String) -> Bool {
        let fast = SignalFrameScanner.signal(in: text)
        let generic = Result { () throws(ProtocolError) in try ClientMessage.decodeFromTree(text) }
        let combined = Result { () throws(ProtocolError) in try ClientMessage.decode(text) }
        if let fast {
            #expect(generic == .success(.signal(fast)), "fast path accepted \(text) differently: \(generic)")
        }
        #expect(combined == generic, "decode differs from the generic decoder on \(text)")
        return fast != nil
    }

    @Test("the usual forms of every signal kind take the fast path, with the generic decoder's result")
    func usualForms() {
        for kind in SignalKind.allCases {
            let message = ClientMessage.signal(OutgoingSignal(kind: kind, to: Self.recipient,
                                                              sealed: SealedBox(nonce: Array(repeating: 1, count: 24), ciphertext: Array(0..<17))))
            #expect(Self.agree(message.encoded()), "\(kind)")
        }
        #expect(Self.agree(Self.frame))
        #expect(Self.agree(" \n{ \"sealed\" :{\"box\":\"\(Self.box)\",\t\"nonce\":\"\(Self.nonce)\"} , \"to\":\"\(Self.recipient.base64)\",\"type\":\"restart\"}\r\n"))
        #expect(Self.agree(Self.frame.replacing("m-1", with: "é ✓ 𝄞")))
        #expect(Self.agree(Self.frame.replacing("m-1", with: "")))
    }

    @Test("every client vector decodes as the generic decoder decodes it")
    func vectors() throws {
        let vectors = try GoldenVectors.load("messages")
        var fastCount = 0
        for (_, vector) in vectors where vector["direction"]?.stringValue == "client" {
            guard let frame = vector["frame"]?.stringValue else { continue }
            if Self.agree(frame) { fastCount += 1 }
        }
        #expect(fastCount >= 5, "the signal vectors should take the fast path")
    }

    @Test("forms left to the generic decoder: escapes, a null id, other types, unknown or repeated fields, a client from")
    func leftToGenericDecoder() {
        let to = Self.recipient.base64
        var texts: [String] = []
        texts.append(Self.frame.replacing(#""m-1""#, with: "null"))
        texts.append(Self.frame.replacing("m-1", with: #"m\u002d1"#))
        texts.append(Self.frame.replacing(#""type""#, with: #""t\u0079pe""#))
        texts.append(Self.frame.replacing("offer", with: "hello"))
        texts.append(Self.frame.replacing("offer", with: "Offer"))
        texts.append(Self.frame.replacing(#","id""#, with: #","from":"\#(to)","id""#))
        texts.append(Self.frame.replacing(#","id""#, with: #","extra":1,"id""#))
        texts.append(Self.frame.replacing(#","id""#, with: #","to":"\#(to)","id""#))
        texts.append(Self.frame.replacing(#""box""#, with: #""nonce":"\#(Self.nonce)","box""#))
        texts.append(Self.frame.replacing(#""box""#, with: #""mac":"AA==","box""#))
        texts.append(Self.frame.replacing("m-1", with: String(repeating: "i", count: 65)))
        texts.append(Self.frame.replacing(Self.nonce, with: Base64.encode(Array(repeating: 7, count: 23))))
        texts.append(Self.frame.replacing(Self.box, with: Base64.encode(Array(0..<16))))
        texts.append(Self.frame.replacing(Self.box, with: Base64.encode(Array(repeating: 1, count: Limits.maximumSealedBytes + 1))))
        texts.append(Self.frame.replacing(Self.box, with: String(Self.box.dropLast()) + "B"))
        texts.append(Self.frame.replacing(to, with: Base64.encode(Array(repeating: 9, count: 31))))
        texts.append(Self.frame.replacing(#""sealed":{"#, with: #""sealed":[{"#).replacing(#"},"id""#, with: #"}],"id""#))
        texts.append(Self.frame + "x")
        texts.append(Self.frame + "{}")
        texts.append("{}")
        texts.append("[]")
        texts.append("")
        texts.append(" ")
        texts.append("null")
        texts.append(Self.frame.replacing("m-1", with: String(repeating: "x", count: Limits.maximumFrameBytes)))
        for text in texts {
            #expect(!Self.agree(text), "fast path accepted \(text.prefix(200))")
        }
    }

    @Test("every truncation, deletion and insertion of one byte of a frame is decoded as the generic decoder decodes it")
    func mutations() {
        let bytes = Array(Self.frame.utf8)
        let inserts: [UInt8] = Array(#" "\,:{}[]0aA=/+"#.utf8) + [0x01, 0x0A, 0x7F]
        var accepted = 0
        for position in 0...bytes.count {
            if Self.agree(String(decoding: bytes[..<position], as: UTF8.self)) { accepted += 1 }
            if position < bytes.count {
                var deleted = bytes
                deleted.remove(at: position)
                if Self.agree(String(decoding: deleted, as: UTF8.self)) { accepted += 1 }
            }
            for byte in inserts {
                var inserted = bytes
                inserted.insert(byte, at: position)
                if Self.agree(String(decoding: inserted, as: UTF8.self)) { accepted += 1 }
            }
        }
        // Whitespace between tokens, and characters inside the id, keep the frame valid: some mutants must pass.
        #expect(accepted > 0)
    }
}
