import RiftCrypto
@testable import RiftHub
import RiftProtocol
import Testing

@Suite("Routing core: join rate")
struct HubRouterJoinRateTests {
    @Test("one key cycling joins gets rate_limited after its burst, other keys of the token still join, time heals")
    func perKey() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home")
        let token = hub.directory.addToken(network: "home")
        let cycler = PrivateKey.generate()
        for _ in 0..<10 {
            let (connection, welcome) = hub.join(network: "home", token: token, key: cycler)
            #expect(welcome != nil)
            hub.close(connection)
        }
        let connection = hub.open(network: "home", token: token)
        let challenge = hub.challenge(connection)!
        hub.send(connection, hub.hello(challenge, network: "home", key: cycler, name: "node"))
        #expect(errorCodes(hub.take(connection)) == ["rate_limited"])
        #expect(hub.closeCodes[connection] == HubCloseCode.tooMany)
        #expect(hub.join(network: "home", token: token, key: PrivateKey.generate()).1 != nil, "another device is unaffected")
        hub.clock.advance(10)
        #expect(hub.join(network: "home", token: token, key: cycler).1 != nil, "one join refills every 10 s")
    }

    @Test("a token may bring a whole network back at once, but not cycle fresh keys without bound")
    func perToken() {
        let hub = RouterHarness()
        hub.directory.addNetwork("home", maximumPeers: 20)
        let token = hub.directory.addToken(network: "home")
        var admitted = 0
        for _ in 0..<20 where hub.join(network: "home", token: token, key: PrivateKey.generate()).1 != nil { admitted += 1 }
        #expect(admitted == 20, "the network's whole peer limit joins in one burst (a hub restart)")
        let connection = hub.open(network: "home", token: token)
        let challenge = hub.challenge(connection)!
        hub.send(connection, hub.hello(challenge, network: "home", key: PrivateKey.generate(), name: "node"))
        #expect(errorCodes(hub.take(connection)) == ["rate_limited"])
    }
}
