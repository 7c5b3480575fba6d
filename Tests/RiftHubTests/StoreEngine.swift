import RiftTestSupport
import Testing

/// The database engines the store's behaviour tests run against: SQLite always, PostgreSQL where its server is
/// installed (always in CI; `postgresServerStarts` says why it is skipped elsewhere).
enum StoreEngine: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// The engines to test here.
    static let tested: [StoreEngine] = PostgresTestServer.isInstalled ? [.sqlite, .postgres] : [.sqlite]

    /// A fresh, empty database: the SQLite file `path`, or a new database on the test process's PostgreSQL server.
    func location(_ path: String) throws -> String {
        switch self {
        case .sqlite: return path
        case .postgres:
            let server = try #require(try PostgresTestServer.shared, "\(PostgresTestServer.unavailableReason)")
            return try server.createDatabase()
        }
    }

    var testDescription: String { rawValue }
}

@Suite("Store engines")
struct StoreEngineTests {
    @Test("the PostgreSQL test server starts (the store tests run against it too)",
          .enabled(if: PostgresTestServer.isInstalled, "\(PostgresTestServer.unavailableReason)"))
    func postgresServerStarts() throws {
        let server = try #require(try PostgresTestServer.shared)
        #expect(server.port > 0)
        #expect(try server.createDatabase() != server.createDatabase())
    }
}
