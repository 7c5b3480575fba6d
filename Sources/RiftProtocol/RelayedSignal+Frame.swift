extension RelayedSignal {
    /// The frame text of this relayed signal, byte for byte what `JSONWriter` makes of `HubMessage.signal(self).json`
    /// (sorted keys, no escapes: every value is base64 or a signal kind).
    ///
    /// The hub writes one for every relayed message; building the two dictionaries of the JSON value, sorting their
    /// keys and walking them cost more than copying the four strings.
    func encodedFrame() -> String {
        let from = from.base64
        var out = ""
        out.reserveCapacity(sealed.nonceText.utf8.count + sealed.boxText.utf8.count + from.utf8.count + 80)
        out += #"{"from":""#
        out += from
        out += #"","sealed":{"box":""#
        out += sealed.boxText
        out += #"","nonce":""#
        out += sealed.nonceText
        out += #""},"type":""#
        out += kind.rawValue
        out += #""}"#
        return out
    }
}
