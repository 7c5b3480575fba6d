import RiftCrypto

/// The little STUN (RFC 5389) a network check needs: a Binding request, and the XOR-MAPPED-ADDRESS of the answer.
enum STUNProbe {
    static let magicCookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]

    /// A Binding request with a fresh 12-byte transaction id; returns the request and the id.
    static func request() -> (datagram: [UInt8], transaction: [UInt8]) {
        let transaction = SecureRandom.bytes(12)
        return ([0x00, 0x01, 0x00, 0x00] + magicCookie + transaction, transaction)
    }

    /// The mapped address and port of a Binding success response to `transaction`; nil for anything else.
    static func mappedEndpoint(in message: [UInt8], transaction: [UInt8]) -> (address: String, port: UInt16)? {
        guard message.count >= 20, message[0] == 0x01, message[1] == 0x01, Array(message[4..<8]) == magicCookie,
              Array(message[8..<20]) == transaction else { return nil }
        let pad = magicCookie + transaction
        var offset = 20
        while offset + 4 <= message.count {
            let type = UInt16(message[offset]) << 8 | UInt16(message[offset + 1])
            let length = Int(message[offset + 2]) << 8 | Int(message[offset + 3])
            guard offset + 4 + length <= message.count else { return nil }
            let value = Array(message[(offset + 4)..<(offset + 4 + length)])
            if type == 0x0020, length == 8 || length == 20 {
                let port = (UInt16(value[2]) << 8 | UInt16(value[3])) ^ 0x2112
                let bytes = value[4...].enumerated().map { $0.element ^ pad[$0.offset] }
                return (text(bytes), port)
            }
            if type == 0x0001, length == 8 || length == 20 {
                return (text(Array(value[4...])), UInt16(value[2]) << 8 | UInt16(value[3]))
            }
            offset += 4 + (length + 3) / 4 * 4
        }
        return nil
    }

    private static func text(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) { groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16)) }
        return IPv6Text.canonical(groups)
    }
}

/// RFC 5952 text of eight hexadecimal groups: the longest run of two or more zero groups becomes `::`.
enum IPv6Text {
    static func canonical(_ groups: [String]) -> String {
        var bestStart = -1, bestLength = 0, index = 0
        while index < groups.count {
            guard groups[index] == "0" else { index += 1; continue }
            var end = index
            while end < groups.count, groups[end] == "0" { end += 1 }
            if end - index > bestLength, end - index >= 2 { bestStart = index; bestLength = end - index }
            index = end
        }
        guard bestStart >= 0 else { return groups.joined(separator: ":") }
        let head = groups[..<bestStart].joined(separator: ":"), tail = groups[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
