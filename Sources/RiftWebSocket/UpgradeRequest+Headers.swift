internal import CRiftWebSockets

extension UpgradeRequest {
    /// Reads the request of a connection that just upgraded. lws still holds the headers
    /// during `LWS_CALLBACK_ESTABLISHED`, the only place this is called.
    init(readingFrom wsi: OpaquePointer) {
        self.init(
            path: Self.header(WSI_TOKEN_GET_URI, of: wsi) ?? "/",
            authorization: Self.header(WSI_TOKEN_HTTP_AUTHORIZATION, of: wsi),
            host: Self.header(WSI_TOKEN_HOST, of: wsi),
            remoteAddress: Self.peerAddress(of: wsi),
            forwardedFor: Self.header(WSI_TOKEN_X_FORWARDED_FOR, of: wsi))
    }

    /// One header's value (all its fragments), or nil when absent.
    private static func header(_ token: lws_token_indexes, of wsi: OpaquePointer) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0 else { return nil }
        var value = [CChar](repeating: 0, count: length + 1)
        let copied = lws_hdr_copy(wsi, &value, Int32(value.count), token)
        guard copied >= 0 else { return nil }
        return String(decoding: value.prefix(Int(copied)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The peer's numeric address; IPv4 clients of a dual-stack socket lose the `::ffff:` prefix.
    private static func peerAddress(of wsi: OpaquePointer) -> String {
        var text = [CChar](repeating: 0, count: 64)
        guard lws_get_peer_simple(wsi, &text, text.count) != nil else { return "unknown" }
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let mappedPrefix = "::ffff:"
        if address.hasPrefix(mappedPrefix) && address.contains(".") {
            return String(address.dropFirst(mappedPrefix.count))
        }
        return address
    }
}
