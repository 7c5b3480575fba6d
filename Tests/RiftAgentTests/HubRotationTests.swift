@testable import RiftAgent
import Testing

/// The order in which the agent tries its hubs, and when it backs off (no sockets: `HubRotation` is a value).
@Suite("Hub rotation")
struct HubRotationTests {
    @Test("one hub: every failure is a full round, so the backoff applies as before")
    func singleHub() {
        var rotation = HubRotation(hubs: ["wss://a"])
        for _ in 0..<3 {
            #expect(rotation.failed() == .backoff)
            #expect(rotation.current == "wss://a")
        }
        rotation.welcomed()
        #expect(rotation.failed() == .backoff)
    }

    @Test("a lost hub costs one quick switch to the next; a full round without a welcome costs one backoff step")
    func quickSwitchThenBackoff() {
        var rotation = HubRotation(hubs: ["wss://a", "wss://b", "wss://c"])
        #expect(rotation.current == "wss://a")
        rotation.welcomed()
        #expect(rotation.failed() == .none && rotation.current == "wss://b", "a killed: straight to b")
        #expect(rotation.failed() == .none && rotation.current == "wss://c", "b refused too: straight to c")
        #expect(rotation.failed() == .backoff && rotation.current == "wss://a", "all three failed: back off, then a")
        #expect(rotation.failed() == .none && rotation.current == "wss://b", "a new round starts quickly again")
        #expect(rotation.failed() == .none && rotation.current == "wss://c")
        #expect(rotation.failed() == .backoff && rotation.current == "wss://a")
    }

    @Test("the round restarts from the hub that last welcomed the agent")
    func roundStartsFromLastWorking() {
        var rotation = HubRotation(hubs: ["wss://a", "wss://b"])
        #expect(rotation.failed() == .none && rotation.current == "wss://b")  // a is down at start
        rotation.welcomed()  // b works
        #expect(rotation.failed() == .none && rotation.current == "wss://a", "b lost: a at once, no backoff")
        #expect(rotation.failed() == .backoff && rotation.current == "wss://b", "a still down: one full round, back off")
    }

    @Test("a welcome in the middle of a round forgets the failures before it")
    func welcomeResetsTheRound() {
        var rotation = HubRotation(hubs: ["wss://a", "wss://b", "wss://c"])
        _ = rotation.failed()
        _ = rotation.failed()
        rotation.welcomed()  // c works
        #expect(rotation.current == "wss://c")
        #expect(rotation.failed() == .none && rotation.current == "wss://a")
        #expect(rotation.failed() == .none && rotation.current == "wss://b")
        #expect(rotation.failed() == .backoff && rotation.current == "wss://c")
    }
}

/// The order in which the addresses of one hub name are tried.
@Suite("Hub addresses")
struct HubAddressesTests {
    @Test("the address that last worked comes first, the others keep the resolver's order")
    func ordered() {
        let addresses = ["192.0.2.3", "192.0.2.4", "192.0.2.1", "2001:db8::1"]
        #expect(HubAddresses.ordered(addresses, startingAt: nil) == addresses)
        #expect(HubAddresses.ordered(addresses, startingAt: "192.0.2.1") == ["192.0.2.1", "2001:db8::1", "192.0.2.3", "192.0.2.4"])
        #expect(HubAddresses.ordered(addresses, startingAt: "198.51.100.9") == addresses, "gone from the name: from the top")
    }

    @Test("a numeric host is left to the client: nothing to rotate")
    func numericHosts() async {
        #expect(await HubAddresses.resolve("wss://192.0.2.1:8443/v1/networks/home").isEmpty)
        #expect(await HubAddresses.resolve("ws://[::1]:8080/v1/networks/home").isEmpty)
    }
}
