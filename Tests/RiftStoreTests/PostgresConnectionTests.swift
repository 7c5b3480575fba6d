import Foundation
import RiftStore
import RiftTestSupport
import Testing

/// The PostgreSQL wrapper against a real server (skipped, with the reason, where PostgreSQL is not installed).
@Suite("PostgreSQL wrapper", .enabled(if: PostgresTestServer.isInstalled, "\(PostgresTestServer.unavailableReason)"))
struct PostgresConnectionTests {
    private func connect() throws -> PostgresConnection {
        let server = try #require(try PostgresTestServer.shared)
        return try PostgresConnection(url: try server.createDatabase())
    }

    @Test("typed values round-trip through bound parameters, including empty blobs, NULL and Int64 extremes")
    func roundTrip() throws {
        let database = try connect()
        try database.execute("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA, n TEXT)")
        let values: [SQLiteValue] = [.integer(-42), .real(1.5), .text("héllo ✓ 'quoted' ?"), .blob([]), .null]
        #expect(try database.run("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)", values) == 1)
        let second: [SQLiteValue] = [.integer(Int64.max), .real(-0.25), .text(""), .blob([0, 255, 7, 0x5C]), .null]
        try database.run("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)", second)
        try database.run("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)", [.integer(Int64.min), .real(0), .text("x"), .blob([1]), .text("y")])
        let rows = try database.query("SELECT i, r, s, b, n FROM t ORDER BY id")
        #expect(rows.map(\.values) == [values, second, [.integer(Int64.min), .real(0), .text("x"), .blob([1]), .text("y")]])
        // Explicitly numbered parameters (?1 used twice; a bare ? after it is ?2, as in SQLite), counts, booleans and a
        // parameter with no column to infer its type from.
        let found = try database.query("SELECT COUNT(*), ?1 = ?1, ? FROM t WHERE s = ?1", [.text("x"), .integer(7)])
        #expect(found.first?.values == [.integer(1), .integer(1), .integer(7)])
        #expect(try database.query("SELECT 1 WHERE '?' = '?'").count == 1, "a ? inside quotes is not a parameter")
        #expect(try database.run("UPDATE t SET n = ? WHERE i > ?", [.text("z"), .integer(0)]) == 1)
    }

    @Test("errors: constraint violations are recognisable, SQLSTATE in the reason, no bound value in it")
    func errors() throws {
        let database = try connect()
        try database.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try database.run("INSERT INTO t VALUES (?)", ["secret-value"])
        do {
            try database.run("INSERT INTO t VALUES (?)", ["secret-value"])
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.isConstraintViolation)
            #expect(error.reason.contains("23505"))
            #expect(!error.reason.contains("secret-value"))
        }
        #expect(throws: SQLiteError.self) { try database.query("SELEKT 1") }
        // The connection stays usable after an error.
        #expect(try database.query("SELECT k FROM t").count == 1)
    }

    @Test("a transaction rolls back when its body throws, commits otherwise, and does not nest")
    func transactions() throws {
        let database = try connect()
        try database.execute("CREATE TABLE t (k BIGINT PRIMARY KEY)")
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.transaction {
                try database.run("INSERT INTO t VALUES (?)", [.integer(1)])
                throw Abort()
            }
        }
        #expect(try database.query("SELECT COUNT(*) FROM t").first?.integer(0) == 0)
        // A failed statement inside the body aborts the whole transaction.
        #expect(throws: SQLiteError.self) {
            try database.transaction {
                try database.run("INSERT INTO t VALUES (?)", [.integer(2)])
                try database.run("INSERT INTO t VALUES (?)", [.integer(2)])
            }
        }
        #expect(try database.query("SELECT COUNT(*) FROM t").first?.integer(0) == 0)
        try database.transaction { try database.run("INSERT INTO t VALUES (?)", [.integer(3)]) }
        #expect(try database.query("SELECT k FROM t").map(\.values) == [[.integer(3)]])
        #expect(throws: SQLiteError.self) { try database.transaction { try database.transaction { 1 } } }
    }

    @Test("write transactions exclude each other across connections; a writer that cannot get the lock fails and recovers")
    func writerLock() throws {
        let server = try #require(try PostgresTestServer.shared)
        let url = try server.createDatabase()
        let first = try PostgresConnection(url: url)
        // The second connection waits at most 300 ms for the lock (the default is 10 s).
        let second = try PostgresConnection(url: url + "?options=-c%20lock_timeout%3D300ms")
        try first.execute("CREATE TABLE t (k BIGINT)")
        try first.transaction {
            try first.run("INSERT INTO t VALUES (?)", [.integer(1)])
            #expect(throws: SQLiteError.self) { try second.transaction { try second.run("INSERT INTO t VALUES (?)", [.integer(2)]) } }
        }
        // Once the first writer committed, the second one gets the lock (its failed BEGIN left no transaction open).
        try second.transaction { try second.run("INSERT INTO t VALUES (?)", [.integer(3)]) }
        #expect(try second.query("SELECT k FROM t ORDER BY k").map(\.values) == [[.integer(1)], [.integer(3)]])
    }

    @Test("migrations: applied once, recorded, and a newer schema is refused")
    func migrations() throws {
        let server = try #require(try PostgresTestServer.shared)
        let url = try server.createDatabase()
        let steps = [SQLiteMigration(version: 1, sql: "CREATE TABLE a (x BIGINT)"), SQLiteMigration(version: 2, sql: "CREATE TABLE b (y BIGINT)")]
        try PostgresConnection(url: url).migrate(steps)
        let again = try PostgresConnection(url: url)
        try again.migrate(steps)
        #expect(try again.query("SELECT version FROM schema_migrations ORDER BY version").map(\.values) == [[.integer(1)], [.integer(2)]])
        #expect(throws: SQLiteError.self) { try again.migrate(Array(steps.prefix(1))) }
    }

    @Test("an unreachable server: the error names host and port, never the password")
    func unreachable() throws {
        do {
            _ = try PostgresConnection(url: "postgres://rift:hunter2@127.0.0.1:1/hub?connect_timeout=2")
            Issue.record("connected to port 1")
        } catch {
            #expect(error.reason.contains("127.0.0.1") && error.reason.contains("1"))
            #expect(!error.reason.contains("hunter2"))
        }
    }

    @Test("the server restarting: calls fail while it is down, then the connection comes back by itself")
    func reconnects() throws {
        let server = try PostgresTestServer.startPrivate()
        defer { server.destroy() }
        let database = try PostgresConnection(url: server.adminURL)
        try database.execute("CREATE TABLE t (k BIGINT)")
        try server.stop()
        #expect(throws: SQLiteError.self) { try database.run("INSERT INTO t VALUES (?)", [.integer(1)]) }
        do {
            try database.query("SELECT 1")
            Issue.record("a query succeeded with the server stopped")
        } catch {
            #expect(error.reason.contains("127.0.0.1"), "names the server: \(error.reason)")
        }
        try server.start()
        // Reconnection attempts are spaced out (at most 8 s apart), so the first calls after the start may still fail.
        #expect(try eventually { try database.query("SELECT COUNT(*) FROM t").first?.integer(0) } == 0)
        try server.stop()
        try server.start()
        try eventually { try database.transaction { try database.run("INSERT INTO t VALUES (?)", [.integer(2)]) } }
        #expect(try database.query("SELECT k FROM t").map(\.values) == [[.integer(2)]])
    }

    /// `body`'s result once it stops throwing; its last error after 30 s.
    @discardableResult
    private func eventually<Result>(_ body: () throws -> Result) throws -> Result {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do { return try body() } catch where ContinuousClock.now < deadline {}
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}

@Suite("PostgreSQL wrapper without a server")
struct PostgresTextTests {
    @Test("URLs are recognised and printed without their password")
    func redaction() {
        #expect(PostgresURL.isURL("postgres://h/db") && PostgresURL.isURL("postgresql://h/db") && !PostgresURL.isURL("/var/lib/hub.db"))
        #expect(PostgresURL.redacted("postgres://rift:s3cret@db.example:5433/hub") == "postgres://rift:***@db.example:5433/hub")
        #expect(PostgresURL.redacted("postgres://rift@db/hub?sslmode=require&password=s3cret") == "postgres://rift@db/hub?sslmode=require&password=***")
        #expect(PostgresURL.redacted("postgres://db/hub") == "postgres://db/hub")
        #expect(PostgresURL.redacted("postgres://u:p@a:1,b:2/hub") == "postgres://u:***@a:1,b:2/hub")
    }
}
