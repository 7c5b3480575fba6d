// swift-tools-version:6.0
import PackageDescription

/// riftgate: a self-hosted WireGuard mesh.
///
/// C libraries come from Debian packages and are wrapped one module each (`CRift…`); exactly one Swift
/// module imports each of them. `RiftProtocol` is the shared wire protocol and depends on nothing.
let package = Package(
    name: "riftgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "riftgate-hub", targets: ["riftgate-hub"]),
        .executable(name: "riftgate", targets: ["riftgate"]),
        .library(name: "RiftProtocol", targets: ["RiftProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // MARK: C libraries (system packages)
        .systemLibrary(
            name: "CRiftSodium", path: "Sources/CRiftSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CRiftNice", path: "Sources/CRiftNice", pkgConfig: "nice",
            providers: [.apt(["libnice-dev", "libglib2.0-dev"])]),
        .systemLibrary(
            name: "CRiftWebSockets", path: "Sources/CRiftWebSockets", pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev", "libssl-dev"])]),
        .systemLibrary(
            name: "CRiftSQLite", path: "Sources/CRiftSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        // The hub's state in PostgreSQL for a cluster of hubs (issue 14): libpq, synchronous like SQLite.
        .systemLibrary(
            name: "CRiftPQ", path: "Sources/CRiftPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CRiftOpenSSL", path: "Sources/CRiftOpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        // The NATS C client: the message bus between the hubs of a cluster (issue 14).
        .systemLibrary(
            name: "CRiftNATS", path: "Sources/CRiftNATS", pkgConfig: "libnats",
            providers: [.apt(["libnats-dev"])]),

        .systemLibrary(
            name: "CRiftLDNS", path: "Sources/CRiftLDNS", pkgConfig: "ldns",
            providers: [.apt(["libldns-dev"])]),

        // libev has no pkg-config file; the WebSocket server runs libwebsockets on a libev loop (epoll).
        .systemLibrary(name: "CRiftEv", path: "Sources/CRiftEv", providers: [.apt(["libev-dev"])]),

        .target(name: "CRiftLinux"),
        // RFC 6455 §5.1, which libwebsockets 4.1 does not check: a parser of the client's byte stream that notes unmasked
        // frames (pure, unit-tested), and the guard that feeds it by defining `recv` and `SSL_read`. The guard is linked
        // into the `riftgate-hub` executable only, never into a library or test binary (docs/self-hosting.md).
        .target(name: "CRiftFrameParser"),
        .target(name: "CRiftFrameGuard", dependencies: ["CRiftFrameParser"], linkerSettings: [.linkedLibrary("ssl")]),
        // ThreadSanitizer annotations for RiftSupport's Locked (no-ops outside a -sanitize=thread build).
        .target(name: "CRiftTSan"),

        // MARK: Shared protocol (no dependencies)
        .target(name: "RiftProtocol"),

        // MARK: Wrappers, one per C library
        .target(name: "RiftCrypto", dependencies: ["RiftProtocol", "CRiftSodium", "CRiftOpenSSL"]),
        .target(name: "RiftWebSocket", dependencies: ["CRiftWebSockets", "CRiftEv", "RiftSupport"]),
        .target(name: "RiftNice", dependencies: ["CRiftNice", "RiftSupport"]),
        .target(name: "RiftStore", dependencies: ["CRiftSQLite", "CRiftPQ", "RiftSupport"]),
        // The agent's resolver for peers' names (wire format through libldns).
        .target(name: "RiftDNS", dependencies: ["CRiftLDNS", "RiftSupport", "RiftProtocol", .product(name: "Logging", package: "swift-log")]),

        // MARK: Shared pieces without C
        .target(name: "RiftSupport", dependencies: ["CRiftLinux", "CRiftTSan", .product(name: "Logging", package: "swift-log")]),
        .target(name: "RiftWireGuard", dependencies: ["CRiftLinux", "RiftSupport", "RiftProtocol"]),
        // The hub cluster's message bus on NATS (libnats) and the messages hubs exchange over it.
        .target(
            name: "RiftCluster",
            dependencies: ["CRiftNATS", "RiftProtocol", "RiftSupport", .product(name: "Logging", package: "swift-log")]),
        // A TURN allocation probe, for the hub's credential check and `riftgate netcheck`.
        .target(name: "RiftTURN", dependencies: ["RiftCrypto", "RiftSupport"]),

        // MARK: The two programs' behaviour
        .target(
            name: "RiftHub",
            dependencies: [
                "RiftProtocol", "RiftCrypto", "RiftWebSocket", "RiftStore", "RiftSupport", "RiftTURN", "RiftCluster",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "RiftAgent",
            dependencies: [
                "RiftProtocol", "RiftCrypto", "RiftWebSocket", "RiftNice", "RiftWireGuard", "RiftSupport", "RiftTURN", "RiftDNS",
                "CRiftLinux", .product(name: "Logging", package: "swift-log"),
            ],
            // Every file imports what it uses: no Foundation member (`localizedDescription`) reaches the agent through
            // a dependency's own `import Foundation` and links all of Foundation in (docs/performance.md).
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),

        // MARK: Executables: argument parsing only
        .executableTarget(
            name: "riftgate-hub",
            dependencies: ["RiftHub", "RiftWebSocket", "CRiftFrameGuard", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "riftgate",
            dependencies: ["RiftAgent", "RiftProtocol", "RiftSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),

        // MARK: Tests
        .target(
            name: "RiftTestSupport",
            dependencies: [
                "RiftProtocol", "RiftAgent", "RiftNice", "RiftWireGuard", "RiftCrypto", "RiftSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/RiftTestSupport"),
        .testTarget(name: "RiftProtocolTests", dependencies: ["RiftProtocol", "RiftTestSupport"]),
        .testTarget(name: "RiftCryptoTests", dependencies: ["RiftCrypto", "RiftProtocol", "RiftTestSupport"]),
        .testTarget(name: "RiftWebSocketTests", dependencies: ["RiftWebSocket", "RiftSupport"]),
        .testTarget(name: "RiftNiceTests", dependencies: ["RiftNice", "RiftSupport"]),
        .testTarget(
            name: "RiftHubTests",
            dependencies: ["RiftHub", "RiftProtocol", "RiftCrypto", "RiftTURN", "RiftTestSupport", "RiftCluster", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "RiftStoreTests", dependencies: ["RiftStore", "RiftTestSupport"]),
        .testTarget(
            name: "RiftClusterTests",
            dependencies: ["RiftCluster", "RiftProtocol", "RiftSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "RiftDNSTests", dependencies: ["RiftDNS", "RiftSupport"]),
        .testTarget(
            name: "RiftAgentTests",
            dependencies: ["RiftAgent", "RiftProtocol", "RiftNice", "RiftWireGuard", "RiftTURN", "RiftSupport", "RiftTestSupport", "RiftDNS"]),
        .testTarget(name: "RiftSupportTests", dependencies: ["RiftSupport"]),
        .testTarget(name: "CRiftFrameParserTests", dependencies: ["CRiftFrameParser"]),
        .testTarget(name: "RiftWireGuardTests", dependencies: ["RiftWireGuard", "RiftProtocol", "RiftSupport"]),
        // Data-path harness: a functional test of the forwarding loop that `make bench` also runs under callgrind.
        .testTarget(name: "DataPathHarnessTests", dependencies: ["RiftAgent"], path: "Tests/bench/DataPathHarness"),
    ]
)

// MARK: Fuzz targets (`make fuzz`; see Tests/fuzz/README.md)
// Only with RIFTGATE_FUZZ=1, in their own scratch path, built with `-sanitize=fuzzer,address`: each links libFuzzer's
// driver, which a plain `swift build` must not try to link.
if Context.environment["RIFTGATE_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzJSON", ["RiftProtocol"]),
        ("FuzzClientMessage", ["RiftProtocol"]),
        ("FuzzHubMessage", ["RiftProtocol"]),
        ("FuzzSealed", ["RiftProtocol", "RiftCrypto"]),
        ("FuzzSTUN", ["RiftHub"]),
        ("FuzzWireGuard", ["RiftProtocol", "RiftWireGuard"]),
        ("FuzzConfiguration", ["RiftHub", "RiftAgent"]),
        ("FuzzDNS", ["RiftDNS"]),
        ("FuzzClusterMessage", ["RiftCluster"]),
        ("FuzzFrameParser", ["CRiftFrameParser"]),
    ]
    package.targets.append(.target(name: "CRiftFuzz", path: "Tests/fuzz/CRiftFuzz"))
    // The mask check's C parser is fuzzed directly: instrument it for coverage and AddressSanitizer (-Xcxx in the
    // Makefile's flags reaches C++ only).
    if let parser = package.targets.first(where: { $0.name == "CRiftFrameParser" }) {
        parser.cSettings = [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])]
    }
    for target in fuzzTargets {
        package.targets.append(.executableTarget(
            name: target.name, dependencies: target.dependencies + ["CRiftFuzz"], path: "Tests/fuzz/\(target.name)"))
    }
}
