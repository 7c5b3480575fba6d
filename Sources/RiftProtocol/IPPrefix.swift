/// An IPv4 network prefix such as `100.64.0.0/10`.
public struct IPv4Prefix: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the prefix (host bits zero).
    public var network: IPv4Address
    /// The prefix length, 0–32.
    public var length: Int

    /// Parses `a.b.c.d/n`; nil when malformed or when host bits are set.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let length = Int(parts[1]),
              (0...32).contains(length) else { return nil }
        self.init(network: address, length: length)
        guard self.network == address else { return nil }
    }

    /// The prefix of `length` bits containing `network` (host bits are cleared).
    public init(network: IPv4Address, length: Int) {
        self.length = length
        self.network = IPv4Address(network.value & Self.mask(length))
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << (32 - UInt32(length)) }

    /// How many addresses the prefix holds.
    public var size: UInt64 { UInt64(1) << UInt64(32 - length) }

    /// Whether `address` lies inside the prefix.
    public func contains(_ address: IPv4Address) -> Bool { address.value & Self.mask(length) == network.value }

    /// The address at `offset` from the start of the prefix; nil past its end.
    public func address(at offset: UInt64) -> IPv4Address? {
        guard offset < size else { return nil }
        return IPv4Address(network.value + UInt32(offset))
    }

    public var description: String { "\(network)/\(length)" }
}

/// An IPv6 network prefix such as `fd7a:115c:a1e0::/48`.
public struct IPv6Prefix: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the prefix (host bits zero).
    public var network: IPv6Address
    /// The prefix length, 0–128.
    public var length: Int

    /// Parses `address/n`; nil when malformed or when host bits are set.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(String(parts[0])), let length = Int(parts[1]),
              (0...128).contains(length) else { return nil }
        self.network = address
        self.length = length
        for bit in length..<128 where address.bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 { return nil }
    }

    /// Whether `address` lies inside the prefix.
    public func contains(_ address: IPv6Address) -> Bool {
        (0..<length).allSatisfy { bit in
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            return address.bytes[bit / 8] & mask == network.bytes[bit / 8] & mask
        }
    }

    /// The address whose low 64 bits are `interfaceID` inside this prefix (the prefix must be /64 or shorter).
    public func address(interfaceID: UInt64) -> IPv6Address {
        var bytes = network.bytes
        for index in 0..<8 { bytes[8 + index] |= UInt8(interfaceID >> UInt64(56 - 8 * index) & 0xFF) }
        return IPv6Address(bytes: bytes)
    }

    public var description: String { "\(network)/\(length)" }
}
