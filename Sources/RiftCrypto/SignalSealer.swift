import RiftProtocol

/// Seals and opens the end-to-end signaling payloads that the hub relays but cannot read or forge
/// (PROTOCOL.md § Sealing): `crypto_box` from the sender's private key to the recipient's public key.
public enum SignalSealer {
    /// Seals `payload` for `payload.to`: `crypto_box_easy(payload.encoded(), nonce, payload.to, sender)`.
    ///
    /// `nonce` nil draws 24 random bytes, which is what every real message must do; a fixed nonce is for test
    /// vectors only. Fails with `mismatch` when `payload.from` is not `sender`'s public key (the recipient would
    /// reject it), and with `sealFailed` for a nonce that is not 24 bytes, a payload whose box would exceed
    /// `Limits.maximumSealedBytes`, or a recipient key libsodium refuses.
    public static func seal(
        _ payload: SignalPayload, sender: PrivateKey, nonce: [UInt8]? = nil
    ) throws(CryptoError) -> SealedBox {
        guard payload.from == sender.publicKey else {
            throw CryptoError(.mismatch, "payload.from \(payload.from) is not the sender's key \(sender.publicKey)")
        }
        var plaintext = payload.encoded()
        defer { Sodium.zero(&plaintext) }
        guard plaintext.count + SealedBox.macBytes <= Limits.maximumSealedBytes else {
            let size = plaintext.count + SealedBox.macBytes
            throw CryptoError(
                .sealFailed, "a sealed \(payload.kind.rawValue) of \(size) bytes exceeds the \(Limits.maximumSealedBytes)-byte limit")
        }
        let nonce = nonce ?? Sodium.randomBytes(SealedBox.nonceBytes)
        let ciphertext = try CryptoBox.seal(plaintext, nonce: nonce, to: payload.to, from: sender.secret)
        return SealedBox(nonce: nonce, ciphertext: ciphertext)
    }

    /// Opens a relayed signal with `crypto_box_open_easy(sealed, nonce, signal.from, recipient)`, decodes it with
    /// `SignalPayload.decode`, and accepts it only if it says what its envelope says.
    ///
    /// Fails with `openFailed` when the box does not authenticate (not sealed by `signal.from` for `recipient`,
    /// or altered), `malformedPayload` when the plaintext is not a valid payload, and `mismatch` when
    /// `payload.kind` is not `signal.kind`, `payload.from` is not `signal.from`, `payload.to` is not the
    /// recipient's own key, or (offer, answer) `wireguard.public_key` is not `payload.from` (PROTOCOL.md §7: a peer's
    /// WireGuard key is its identity). The checks stop a hub from relabelling a message (an offer as an answer) or
    /// reflecting a peer's own message back to it: `crypto_box` keys are symmetric, so a box that Alice sealed
    /// for Bob also opens for Alice when the hub claims it came from Bob.
    public static func open(_ signal: RelayedSignal, recipient: PrivateKey) throws(CryptoError) -> SignalPayload {
        var plaintext = try CryptoBox.open(
            signal.sealed.ciphertext, nonce: signal.sealed.nonce, from: signal.from, to: recipient.secret)
        defer { Sodium.zero(&plaintext) }
        let payload: SignalPayload
        do throws(ProtocolError) {
            payload = try SignalPayload.decode(plaintext)
        } catch {
            throw CryptoError(
                .malformedPayload, "the \(signal.kind.rawValue) from \(signal.from) opened but is not a valid payload: \(error)")
        }
        guard payload.kind == signal.kind else {
            throw CryptoError(.mismatch, "the envelope says \(signal.kind.rawValue) but the payload is \(payload.kind.rawValue)")
        }
        guard payload.from == signal.from else {
            throw CryptoError(.mismatch, "the envelope says it is from \(signal.from) but the payload is from \(payload.from)")
        }
        guard payload.to == recipient.publicKey else {
            throw CryptoError(.mismatch, "the payload is addressed to \(payload.to), not to \(recipient.publicKey)")
        }
        if case .description(_, let wireguard) = payload.body, wireguard.publicKey != payload.from {
            throw CryptoError(.mismatch, "the \(payload.kind.rawValue) from \(payload.from) names WireGuard key \(wireguard.publicKey)")
        }
        return payload
    }
}
