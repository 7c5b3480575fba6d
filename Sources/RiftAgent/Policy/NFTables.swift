import FoundationEssentials
import Glibc
import RiftSupport

/// Loading an nftables script with `nft -f`: the one place the agent's tables (inbound filter, port hand-over) go
/// through.
enum NFTables {
    /// Whether `nft` is installed.
    static var isInstalled: Bool { Subprocess.executablePath(named: "nft") != nil }

    /// Loads `script` (named after `tableName` while it is on disk). nft reads it from a file: Subprocess input is
    /// limited to one pipe buffer and a ruleset may be longer. Throws when nft refuses it or cannot run.
    static func load(_ script: String, tableName: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("riftgate-\(tableName)-\(getpid()).nft").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try Subprocess.run(["nft", "-f", path], timeout: .seconds(10))
    }
}
