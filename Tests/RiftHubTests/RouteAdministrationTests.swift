import Foundation
import RiftCrypto
import RiftHub
import RiftProtocol
import Testing

@Suite("Admin CLI and store: subnet routes")
struct RouteAdministrationTests {
    private static func routes(_ texts: String...) -> [SubnetRoute] { texts.map { SubnetRoute($0)! } }

    /// The STATE column of the one line of `listing` for `route`.
    private static func state(of route: String, in listing: String) -> String? {
        let lines = listing.split(separator: "\n").filter { $0.split(separator: " ").contains(Substring(route)) }
        guard lines.count == 1, let range = lines[0].range(of: route) else { return nil }
        return lines[0][range.upperBound...].trimmingCharacters(in: .whitespaces)
    }

    @Test("list shows states; approve needs an advertisement and refuses overlaps; revoke; revoking the peer drops approvals", arguments: StoreEngine.tested)
    func lifecycle(engine: StoreEngine) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString)").path
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
        #expect(try admin.listRoutes(network: "home").hasPrefix("No routes in network home."))

        #expect(try database.advertiseRoutes(network: "home", publicKey: a, routes: Self.routes("192.168.1.0/24", "fd00:1::/64")).isEmpty)
        #expect(try database.advertiseRoutes(network: "home", publicKey: b, routes: Self.routes("192.168.0.0/16", "10.0.0.0/8")).isEmpty)
        let listed = try admin.listRoutes(network: "home")
        #expect(listed.contains("192.168.1.0/24") && listed.contains("fd00:1::/64") && listed.contains("advertised"))
        #expect(!listed.contains("approved"))

        let approved = try admin.approveRoute(network: "home", peer: "laptop-b", route: "192.168.0.0/16")
        #expect(approved.hasPrefix("Approved 192.168.0.0/16 for peer"))
        #expect(try admin.approveRoute(network: "home", peer: "laptop-b", route: "192.168.0.0/16").contains("already approved"))
        let clash = #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: "laptop-a", route: "192.168.1.0/24") }
        #expect(clash?.reason == "192.168.1.0/24 overlaps 192.168.0.0/16 approved for laptop-b; revoke that first")
        let overlay = #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: "laptop-a", route: "100.64.0.0/16") }
        #expect(overlay?.reason.contains("overlaps the overlay prefix 100.64.0.0/10") == true)
        let overlay6 = #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: "laptop-a", route: "fd7a:1:0:5::/64") }
        #expect(overlay6?.reason.contains("overlaps the overlay prefix fd7a:1::/48") == true)
        let unadvertised = #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: "laptop-a", route: "172.16.0.0/12") }
        #expect(unadvertised?.reason.contains("does not advertise 172.16.0.0/12") == true)
        #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: "laptop-a", route: "192.168.1.1/24") }
        #expect(throws: HubStoreError.self) { try admin.approveRoute(network: "home", peer: "laptop-a", route: "0.0.0.0/0") }
        // The same peer's own routes may nest (only another peer's approval clashes).
        _ = try admin.approveRoute(network: "home", peer: "laptop-b", route: "10.0.0.0/8")
        _ = try admin.approveRoute(network: "home", peer: "laptop-a", route: "fd00:1::/64")
        #expect(try database.activeRoutes(network: "home") == [b: Self.routes("10.0.0.0/8", "192.168.0.0/16"), a: Self.routes("fd00:1::/64")])

        // No longer advertised: still approved, listed so, not active.
        #expect(try database.advertiseRoutes(network: "home", publicKey: b, routes: Self.routes("10.0.0.0/8")) == Self.routes("10.0.0.0/8"))
        #expect(Self.state(of: "192.168.0.0/16", in: try admin.listRoutes(network: "home")) == "approved, not advertised")
        #expect(Self.state(of: "10.0.0.0/8", in: try admin.listRoutes(network: "home")) == "approved")
        #expect(Self.state(of: "192.168.1.0/24", in: try admin.listRoutes(network: "home")) == "advertised")
        let revoked = try admin.revokeRoute(network: "home", peer: "laptop-b", route: "192.168.0.0/16")
        #expect(revoked.hasPrefix("Revoked 192.168.0.0/16 for peer"))
        #expect(throws: HubStoreError.self) { try admin.revokeRoute(network: "home", peer: "laptop-b", route: "192.168.0.0/16") }
        _ = try admin.approveRoute(network: "home", peer: "laptop-a", route: "192.168.1.0/24")

        try database.revokePeer(network: "home", publicKey: a, now: 1_700_000_001)
        #expect(try database.activeRoutes(network: "home") == [b: Self.routes("10.0.0.0/8")])
        #expect(Self.state(of: "fd00:1::/64", in: try admin.listRoutes(network: "home")) == "advertised", "the approval went with the peer")
    }
}
