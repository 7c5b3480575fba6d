import Testing
@testable import RiftWebSocket

@Suite("the accept guard bounds sockets, and connections waiting for their upgrade per address")
struct AcceptGuardTests {
    private static func key(_ text: String) -> ClientAddressKey { ClientAddressKey(text)! }

    @Test("an address gets its limit of pending connections, then refusals; others are not affected")
    func pendingPerAddress() {
        var guarding = AcceptGuard(maximumSockets: 100, maximumPendingPerAddress: 3, exemptAddresses: [])
        for descriptor in Int32(10)..<13 { #expect(guarding.admit(descriptor: descriptor, from: Self.key("192.0.2.7")) == nil) }
        #expect(guarding.admit(descriptor: 13, from: Self.key("192.0.2.7")) == .tooManyPending(from: "192.0.2.7"))
        #expect(guarding.admit(descriptor: 13, from: Self.key("192.0.2.8")) == nil)
        #expect(guarding.socketCount == 4)
        #expect(guarding.pendingCount(from: Self.key("192.0.2.7")) == 3)
    }

    @Test("an upgraded or closed connection makes room for the next; an upgraded one still counts as a socket")
    func upgradeAndCloseRelease() {
        var guarding = AcceptGuard(maximumSockets: 100, maximumPendingPerAddress: 2, exemptAddresses: [])
        let address = Self.key("198.51.100.1")
        #expect(guarding.admit(descriptor: 5, from: address) == nil)
        #expect(guarding.admit(descriptor: 6, from: address) == nil)
        guarding.upgraded(descriptor: 5)
        guarding.upgraded(descriptor: 5)  // twice: released once
        #expect(guarding.pendingCount(from: address) == 1)
        #expect(guarding.admit(descriptor: 7, from: address) == nil)
        #expect(guarding.admit(descriptor: 8, from: address) != nil)
        guarding.closed(descriptor: 6)
        #expect(guarding.admit(descriptor: 8, from: address) == nil)
        guarding.closed(descriptor: 5)  // upgraded: leaves the pending count alone
        #expect(guarding.pendingCount(from: address) == 2)
        #expect(guarding.socketCount == 2)
    }

    @Test("capacity counts every socket, exempt or not, and refuses past it")
    func capacity() {
        var guarding = AcceptGuard(maximumSockets: 2, maximumPendingPerAddress: 10, exemptAddresses: [])
        #expect(guarding.admit(descriptor: 3, from: Self.key("127.0.0.1")) == nil)
        #expect(guarding.admit(descriptor: 4, from: nil) == nil)
        #expect(guarding.admit(descriptor: 5, from: Self.key("192.0.2.1")) == .atCapacity)
        guarding.upgraded(descriptor: 3)
        #expect(guarding.admit(descriptor: 5, from: Self.key("192.0.2.1")) == .atCapacity)
        guarding.closed(descriptor: 3)
        #expect(guarding.admit(descriptor: 5, from: Self.key("192.0.2.1")) == nil)
    }

    @Test("loopback and the exempt addresses are not limited per address")
    func exemptions() {
        var guarding = AcceptGuard(maximumSockets: 100, maximumPendingPerAddress: 1, exemptAddresses: [Self.key("203.0.113.9")])
        for descriptor in Int32(1)...3 {
            #expect(guarding.admit(descriptor: descriptor, from: Self.key("127.0.0.\(descriptor)")) == nil)
            #expect(guarding.admit(descriptor: descriptor + 10, from: Self.key("::1")) == nil)
            #expect(guarding.admit(descriptor: descriptor + 20, from: Self.key("203.0.113.9")) == nil)
        }
        #expect(guarding.admit(descriptor: 40, from: Self.key("203.0.113.10")) == nil)
        #expect(guarding.admit(descriptor: 41, from: Self.key("203.0.113.10")) != nil)
    }

    @Test("no per-address limit when it is 0")
    func unlimited() {
        var guarding = AcceptGuard(maximumSockets: 100, maximumPendingPerAddress: 0, exemptAddresses: [])
        for descriptor in Int32(1)...50 { #expect(guarding.admit(descriptor: descriptor, from: Self.key("192.0.2.7")) == nil) }
        guarding.closed(descriptor: 1)
        #expect(guarding.socketCount == 49)
    }

    @Test("a descriptor admitted again without its close (lws failed to adopt it) releases what it held first")
    func reusedDescriptor() {
        var guarding = AcceptGuard(maximumSockets: 100, maximumPendingPerAddress: 1, exemptAddresses: [])
        #expect(guarding.admit(descriptor: 9, from: Self.key("192.0.2.7")) == nil)
        #expect(guarding.admit(descriptor: 9, from: Self.key("192.0.2.7")) == nil)
        #expect(guarding.socketCount == 1)
        #expect(guarding.pendingCount(from: Self.key("192.0.2.7")) == 1)
    }

    @Test("IPv6 clients are limited by their /64; IPv4-mapped ones as IPv4")
    func ipv6Prefix() {
        var guarding = AcceptGuard(maximumSockets: 100, maximumPendingPerAddress: 2, exemptAddresses: [])
        #expect(guarding.admit(descriptor: 1, from: Self.key("2001:db8:1:2::1")) == nil)
        #expect(guarding.admit(descriptor: 2, from: Self.key("2001:db8:1:2:ffff::7")) == nil)
        #expect(guarding.admit(descriptor: 3, from: Self.key("2001:db8:1:2:abcd::9")) == .tooManyPending(from: "2001:db8:1:2::/64"))
        #expect(guarding.admit(descriptor: 3, from: Self.key("2001:db8:1:3::1")) == nil)
        #expect(Self.key("::ffff:192.0.2.7") == Self.key("192.0.2.7"))
    }

    @Test("the socket limit leaves the process a reserve of its open files")
    func socketLimit() {
        #expect(AcceptGuard.maximumSockets(fileDescriptorLimit: 20_000) == 19_744)
        #expect(AcceptGuard.maximumSockets(fileDescriptorLimit: 1_024) == 896)
        #expect(AcceptGuard.maximumSockets(fileDescriptorLimit: 64) == 48)
    }

    @Test("address keys read literals and refuse anything else")
    func keys() {
        #expect(ClientAddressKey("192.0.2.300") == nil)
        #expect(ClientAddressKey("example.com") == nil)
        #expect(ClientAddressKey("10.0.0.1")?.description == "10.0.0.1")
        #expect(ClientAddressKey("fe80::1")?.description == "fe80:0:0:0::/64")
        #expect(ClientAddressKey("127.8.9.10")?.isLoopback == true)
        #expect(ClientAddressKey("::2")?.isLoopback == true)
        #expect(ClientAddressKey("128.0.0.1")?.isLoopback == false)
        #expect(ClientAddressKey(addressBytes: [1, 2, 3]) == nil)
    }
}
