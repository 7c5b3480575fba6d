import Foundation
@testable import RiftHub
import RiftStore
import Testing

@Suite("State migration")
struct StateMigrationTests {
    @Test("the hub's SQLite tables are read from its schema, each after the tables its foreign keys point to")
    func dependencyOrder() throws {
        let database = try HubDatabase(path: ":memory:")
        let tables = try StateMigration.SourceTable.all(in: database.database)
        let names = tables.map(\.name)
        #expect(Set(names).isSuperset(of: ["networks", "tokens", "peers", "token_limits", "token_keys", "peer_tags", "approved_routes", "exit_nodes"]))
        for table in tables {
            let position = try #require(names.firstIndex(of: table.name))
            for referenced in table.references {
                #expect(try #require(names.firstIndex(of: referenced)) < position, "\(table.name) before \(referenced)")
            }
        }
        #expect(tables.first { $0.name == "peers" }?.columns.contains("host_offset") == true)
    }

    @Test("foreign keys forming a cycle are refused rather than copied in an order that cannot work")
    func cycle() {
        let tables = [StateMigration.SourceTable(name: "a", columns: ["x"], references: ["b"]),
                      StateMigration.SourceTable(name: "b", columns: ["y"], references: ["a"])]
        #expect(throws: SQLiteError.self) { try StateMigration.SourceTable.dependencyOrder(tables) }
    }

    @Test("a migration's exclusive lock and serving hubs' shared locks exclude each other")
    func stateDirectoryLock() throws {
        let directory = StateDirectory(path: FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path)
        try directory.prepare()
        let first = try directory.lock(.serving)
        let second = try directory.lock(.serving)  // two cluster members may share a state directory
        #expect(throws: ConfigurationError.self) { try directory.lock(.migrating) }
        first.close()
        second.close()
        let migrating = try directory.lock(.migrating)
        #expect(throws: ConfigurationError.self) { try directory.lock(.serving) }
        migrating.close()
        _ = try directory.lock(.serving)
    }

    @Test("a target that is not a PostgreSQL URL and a missing source are refused before anything is opened")
    func refusals() {
        #expect(throws: HubStoreError.self) { try StateMigration(sourcePath: "/nonexistent/hub.db", targetURL: "postgres://u@127.0.0.1:1/db") }
        #expect(throws: HubStoreError.self) { try StateMigration(sourcePath: "/etc/hostname", targetURL: "/tmp/other.db") }
    }
}
