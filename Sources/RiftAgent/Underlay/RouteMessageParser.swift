import RiftProtocol

/// Decodes the datagrams of a NETLINK_ROUTE socket into `UnderlayChange`s: pure, so every layout is tested with bytes.
///
/// Layouts and numbers from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h (stable kernel ABI,
/// host byte order). Anything malformed or unknown is skipped, never trusted: a truncated header ends the datagram.
enum RouteMessageParser {
    // nlmsghdr types
    static let linkAdded: UInt16 = 16  // RTM_NEWLINK
    static let linkDeleted: UInt16 = 17  // RTM_DELLINK
    static let addressAddedType: UInt16 = 20  // RTM_NEWADDR
    static let addressDeleted: UInt16 = 21  // RTM_DELADDR
    static let routeAdded: UInt16 = 24  // RTM_NEWROUTE
    static let routeDeleted: UInt16 = 25  // RTM_DELROUTE
    static let done: UInt16 = 3  // NLMSG_DONE

    static let headerLength = 16  // struct nlmsghdr
    static let linkHeaderLength = 16  // struct ifinfomsg
    static let addressHeaderLength = 8  // struct ifaddrmsg
    static let routeHeaderLength = 12  // struct rtmsg

    static let linkNameAttribute: UInt16 = 3  // IFLA_IFNAME
    static let addressAttribute: UInt16 = 1  // IFA_ADDRESS
    static let localAttribute: UInt16 = 2  // IFA_LOCAL
    static let routeTableAttribute: UInt16 = 15  // RTA_TABLE
    static let routeInterfaceAttribute: UInt16 = 4  // RTA_OIF
    static let mainTable: UInt32 = 254  // RT_TABLE_MAIN
    static let interfaceUp: UInt32 = 0x1  // IFF_UP
    static let interfaceRunning: UInt32 = 0x40  // IFF_RUNNING
    static let inet: UInt8 = 2  // AF_INET
    static let inet6: UInt8 = 10  // AF_INET6

    /// Every change in one datagram, in order.
    static func changes(in datagram: [UInt8]) -> [UnderlayChange] {
        var changes: [UnderlayChange] = []
        var offset = 0
        while offset + headerLength <= datagram.count {
            let length = Int(datagram.uint32(at: offset))
            let type = datagram.uint16(at: offset + 4)
            guard length >= headerLength, offset + length <= datagram.count else { break }
            let body = Array(datagram[(offset + headerLength)..<(offset + length)])
            if type == done { break }
            if let change = change(type: type, body: body) { changes.append(change) }
            offset += aligned(length)
        }
        return changes
    }

    private static func change(type: UInt16, body: [UInt8]) -> UnderlayChange? {
        switch type {
        case linkAdded, linkDeleted:
            guard body.count >= linkHeaderLength else { return nil }
            let index = Int32(bitPattern: body.uint32(at: 4))
            let flags = body.uint32(at: 8)
            let name = attributes(body, from: linkHeaderLength)[linkNameAttribute].flatMap(cString)
            if type == linkDeleted { return .linkRemoved(interface: index, name: name) }
            let up = flags & interfaceUp != 0 && flags & interfaceRunning != 0
            return .link(interface: index, name: name, up: up)
        case addressAddedType, addressDeleted:
            guard body.count >= addressHeaderLength else { return nil }
            let family = body[0]
            let index = Int32(bitPattern: body.uint32(at: 4))
            let found = attributes(body, from: addressHeaderLength)
            // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's on point-to-point links.
            guard let raw = found[localAttribute] ?? found[addressAttribute], let text = addressText(family: family, raw) else {
                return nil
            }
            return type == addressAddedType ? .addressAdded(interface: index, address: text)
                : .addressRemoved(interface: index, address: text)
        case routeAdded, routeDeleted:
            guard body.count >= routeHeaderLength else { return nil }
            let destinationLength = body[1]
            let found = attributes(body, from: routeHeaderLength)
            var table = UInt32(body[4])
            if let raw = found[routeTableAttribute], raw.count >= 4 { table = raw.uint32(at: 0) }
            guard table == mainTable else { return nil }  // local/broadcast routes follow addresses; other tables are not ours
            let interface = found[routeInterfaceAttribute].flatMap { $0.count >= 4 ? Int32(bitPattern: $0.uint32(at: 0)) : nil }
            return .route(interface: interface, isDefault: destinationLength == 0, removed: type == routeDeleted)
        default:
            return nil
        }
    }

    /// The route attributes (struct rtattr: length, type, value, padded to 4 bytes) after a fixed header; the last of a
    /// repeated type wins.
    static func attributes(_ body: [UInt8], from start: Int) -> [UInt16: [UInt8]] {
        var found: [UInt16: [UInt8]] = [:]
        var offset = start
        while offset + 4 <= body.count {
            let length = Int(body.uint16(at: offset))
            let type = body.uint16(at: offset + 2) & 0x3FFF  // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
            guard length >= 4, offset + length <= body.count else { break }
            found[type] = Array(body[(offset + 4)..<(offset + length)])
            offset += aligned(length)
        }
        return found
    }

    static func addressText(family: UInt8, _ raw: [UInt8]) -> String? {
        switch family {
        case inet where raw.count == 4:
            return IPv4Address(raw.uint32BigEndian).description
        case inet6 where raw.count == 16:
            return IPv6Address(bytes: raw).description
        default:
            return nil
        }
    }

    private static func cString(_ raw: [UInt8]) -> String? {
        let bytes = raw.prefix { $0 != 0 }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    private static func aligned(_ length: Int) -> Int { (length + 3) & ~3 }
}

extension Array where Element == UInt8 {
    /// A host-byte-order (little-endian on every platform riftgate builds for) integer at `offset`.
    fileprivate func uint32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }

    fileprivate func uint16(at offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }

    /// Four bytes in network order.
    fileprivate var uint32BigEndian: UInt32 { reduce(0) { $0 << 8 | UInt32($1) } }
}
