import RiftProtocol
@testable import RiftCrypto
import CRiftFuzz
import Glibc

// libFuzzer runs the loop; the arguments are its own (`-help=1`).
var argumentCount = CommandLine.argc
var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &arguments, fuzzSealed))

/// libFuzzer entry point for opening sealed signaling payloads (`SignalSealer.open`), with the keys of
/// `Protocol/vectors/sealed`. The first byte picks what the rest is:
/// - even: a plaintext, sealed here from the sender to the recipient as a signal of kind `byte / 2 % 5`, so that the
///   fuzzer reaches `SignalPayload.decode` and the envelope checks behind the authenticator. What opens must seal
///   and open again to the same payload.
/// - odd: a box (with the vectors' nonce) as a hub would relay it; it must open or fail with a `CryptoError`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSealed(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    let kinds: [SignalKind] = [.offer, .answer, .candidate, .endOfCandidates, .restart]
    let kind = kinds[Int(mode / 2) % kinds.count]
    let box: [UInt8]
    if mode % 2 == 0 {
        do { box = try CryptoBox.seal(rest, nonce: Keys.nonce, to: Keys.recipient.publicKey, from: Keys.sender.secret) } catch {
            fatalError("sealing \(rest.count) bytes failed: \(error)")
        }
    } else {
        box = rest
    }
    let signal = RelayedSignal(kind: kind, from: Keys.sender.publicKey, sealed: SealedBox(nonce: Keys.nonce, ciphertext: box))
    guard let payload = try? SignalSealer.open(signal, recipient: Keys.recipient) else { return 0 }
    guard payload.kind == kind, payload.from == Keys.sender.publicKey, payload.to == Keys.recipient.publicKey else {
        fatalError("open accepted a payload that contradicts its envelope")
    }
    let again: SignalPayload
    do {
        let resealed = try SignalSealer.seal(payload, sender: Keys.sender, nonce: Keys.nonce)
        again = try SignalSealer.open(RelayedSignal(kind: kind, from: Keys.sender.publicKey, sealed: resealed), recipient: Keys.recipient)
    } catch {
        fatalError("an opened payload does not seal and open again: \(error)")
    }
    guard again == payload else { fatalError("seal/open changed the payload") }
    return 0
}

/// The keys and nonce of `Protocol/vectors/sealed/offer.json`.
enum Keys {
    static let sender = try! PrivateKey(base64: "4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg=")
    static let recipient = try! PrivateKey(base64: "kK2R40LyOIwPRn7XC9tv7pHkD0vIYfo5ZknqtyfSblM=")
    static let nonce = Base64.decode("C4oP+CjwpXBzOcZZBGI7iav+zgWspRxf")!
}
