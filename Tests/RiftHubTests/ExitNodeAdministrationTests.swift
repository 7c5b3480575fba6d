import Foundation
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Admin CLI and store: exit nodes")
struct ExitNodeAdministrationTests {
    /// The STATE column of the line of `listing` for `peer`'s `route`, nil unless exactly one line matches.
    private static func state(of route: String, for peer: String, in listing: String) -> String? {
        let lines = listing.split(separator: "\n").filter {
            let words = $0.split(separator: " ")
            return words.contains(Substring(route)) && words.contains(Substring(peer))
        }
        guard lines.count == 1, let range = lines[0].range(of: " \(route) ") else { return nil }
        return lines[0][range.upperBound...].trimmingCharacters(in: .whitespaces)
    }

    private static func withHub(_ engine: StoreEngine, _ body: (HubAdministration, HubDatabase, PublicKey, PublicKey) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("exit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try engine.location(directory + "/hub.db")
        let admin = try HubAdministration(databasePath: location, now: { 1_700_000_000 })
        let database = try HubDatabase(location: location)
        _ = try admin.createNetwork(name: "home", ipv4Prefix: "100.64.0.0/10", ipv6Prefix: "fd7a:1::/48", maximumPeers: nil)
        let settings = try #require(try database.network(named: "home"))
        let (token, _) = try database.createToken(network: "home", label: "t", expiresAt: nil, now: 1_700_000_000)
        let a = PrivateKey.generate().publicKey, b = PrivateKey.generate().publicKey
        _ = try database.admitPeer(publicKey: a, name: "laptop-a", network: settings, tokenID: token, now: 1_700_000_000)
        _ = try database.admitPeer(publicKey: b, name: "laptop-b", network: settings, tokenID: token, now: 1_700_000_000)
        try body(admin, database, a, b)
    }

    @Test("advertise, approve (also before advertising), list states, several exit nodes, revoke, revoking the peer drops the approval", arguments: StoreEngine.tested)
    func lifecycle(engine: StoreEngine) throws {
        try Self.withHub(engine) { admin, database, a, b in
            #expect(try admin.listRoutes(network: "home").hasPrefix("No routes in network home."))
            #expect(try database.advertiseExitNode(network: "home", publicKey: a, advertised: true) == false)
            #expect(Self.state(of: "exit-node", for: "\"laptop-a\"", in: try admin.listRoutes(network: "home")) == "advertised")
            #expect(try database.activeExitNodes(network: "home").isEmpty)

            let approved = try admin.approveRoute(network: "home", peer: "laptop-a", route: "exit-node")
            #expect(approved.hasPrefix("Approved peer") && approved.contains("as an exit node in network home"))
            #expect(try admin.approveRoute(network: "home", peer: "laptop-a", route: "exit-node").contains("already approved"))
            #expect(Self.state(of: "exit-node", for: "\"laptop-a\"", in: try admin.listRoutes(network: "home")) == "approved")
            #expect(try database.activeExitNodes(network: "home") == [a])

            // b is approved before it advertises: listed so, active once it does; two exit nodes at once.
            #expect(try admin.approveExitNode(network: "home", peer: "laptop-b").contains("takes effect when it does"))
            #expect(Self.state(of: "exit-node", for: "\"laptop-b\"", in: try admin.listRoutes(network: "home")) == "approved, not advertised")
            #expect(try database.activeExitNodes(network: "home") == [a])
            #expect(try database.advertiseExitNode(network: "home", publicKey: b, advertised: true) == true)
            #expect(try database.activeExitNodes(network: "home") == [a, b])

            // a stops advertising: still approved, not active.
            #expect(try database.advertiseExitNode(network: "home", publicKey: a, advertised: false) == false)
            #expect(Self.state(of: "exit-node", for: "\"laptop-a\"", in: try admin.listRoutes(network: "home")) == "approved, not advertised")
            #expect(try database.activeExitNodes(network: "home") == [b])

            let revoked = try admin.revokeRoute(network: "home", peer: "laptop-a", route: "exit-node")
            #expect(revoked.hasPrefix("Revoked peer") && revoked.contains("as an exit node"))
            #expect(Self.state(of: "exit-node", for: "\"laptop-a\"", in: try admin.listRoutes(network: "home")) == nil, "neither advertised nor approved: not listed")
            let again = #expect(throws: HubStoreError.self) { try admin.revokeRoute(network: "home", peer: "laptop-a", route: "exit-node") }
            #expect(again?.reason.contains("is not approved as an exit node") == true)

            try database.revokePeer(network: "home", publicKey: b, now: 1_700_000_001)
            #expect(try database.activeExitNodes(network: "home").isEmpty)
            #expect(Self.state(of: "exit-node", for: "\"laptop-b\"", in: try admin.listRoutes(network: "home")) == "advertised", "the approval went with the peer")
            let refused = #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: b.base64, route: "exit-node") }
            #expect(refused?.reason.contains("is revoked") == true)
        }
    }

    @Test("route list shows a peer's exit node after its routes; a default route given to approve or revoke points to exit-node", arguments: StoreEngine.tested)
    func listingAndDefaultRoutes(engine: StoreEngine) throws {
        try Self.withHub(engine) { admin, database, a, _ in
            _ = try database.advertiseRoutes(network: "home", publicKey: a, routes: [SubnetRoute("192.168.1.0/24")!])
            _ = try database.advertiseExitNode(network: "home", publicKey: a, advertised: true)
            let lines = try admin.listRoutes(network: "home").split(separator: "\n")
            #expect(lines.count == 3 && lines[0].hasPrefix("PEER"))
            #expect(lines[1].contains("192.168.1.0/24") && lines[2].contains("exit-node"))
            for text in ["0.0.0.0/0", "::/0"] {
                for command in ["approve", "revoke"] {
                    let error = #expect(throws: HubStoreError.self) {
                        _ = command == "approve" ? try admin.approveRoute(network: "home", peer: "laptop-a", route: text)
                                                 : try admin.revokeRoute(network: "home", peer: "laptop-a", route: text)
                    }
                    #expect(error?.reason.contains("riftgate-hub route \(command) <network> <peer> exit-node") == true, "\(command) \(text)")
                }
            }
            #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: "laptop-a", route: "exit") }
        }
    }
}
