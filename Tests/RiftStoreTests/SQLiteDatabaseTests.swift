import Foundation
import RiftStore
import Testing

/// A fresh directory for one test's database files, removed afterwards.
final class TemporaryDirectory {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("riftstore-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("SQLite wrapper")
struct SQLiteDatabaseTests {
    @Test("typed values round-trip through bound parameters, including empty blobs and NULL")
    func roundTrip() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        let values: [SQLiteValue] = [.integer(-42), .real(1.5), .text("héllo ✓"), .blob([]), .null]
        #expect(try database.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", values) == 1)
        try database.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(Int64.max), .real(0), .text(""), .blob([0, 255, 7]), .null])
        let rows = try database.query("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        #expect(rows.map(\.values) == [values, [.integer(Int64.max), .real(0), .text(""), .blob([0, 255, 7]), .null]])
        #expect(rows[0].integer(0) == -42)
        #expect(rows[0].text(2) == "héllo ✓")
        #expect(rows[0].blob(3) == [])
        #expect(rows[0].text(4) == nil)
        #expect(throws: SQLiteError.self) { try rows[0].requiredText(4) }
    }

    @Test("errors carry SQLite's extended code; constraint violations are recognisable")
    func errors() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try database.run("INSERT INTO t VALUES (?)", ["a"])
        do {
            try database.run("INSERT INTO t VALUES (?)", ["a"])
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.isConstraintViolation)
            #expect(error.code == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
        }
        #expect(throws: SQLiteError.self) { try database.query("SELEC nonsense") }
        #expect(throws: SQLiteError.self) { try database.query("SELECT ?", []) }
        #expect(throws: SQLiteError.self) { try database.query("SELECT 1; SELECT 2") }
    }

    @Test("a transaction commits, and rolls back when its body throws")
    func transactions() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (v INTEGER)")
        try database.transaction { try database.run("INSERT INTO t VALUES (1)") }
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.transaction {
                try database.run("INSERT INTO t VALUES (2)")
                throw Abort()
            }
        }
        #expect(try database.query("SELECT v FROM t").map { $0.integer(0) } == [1])
        #expect(throws: SQLiteError.self) { try database.transaction { try database.transaction {} } }
    }

    @Test("migrations run once, in order, and a newer schema is refused")
    func migrations() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/m.db"
        let steps = [SQLiteMigration(version: 1, sql: "CREATE TABLE a (x)"), SQLiteMigration(version: 2, sql: "ALTER TABLE a ADD y")]
        do {
            let database = try SQLiteDatabase(path: path)
            try database.migrate(Array(steps.prefix(1)))
            #expect(try database.userVersion() == 1)
        }
        let database = try SQLiteDatabase(path: path)
        try database.migrate(steps)
        try database.migrate(steps)  // idempotent
        #expect(try database.userVersion() == 2)
        try database.run("INSERT INTO a (x, y) VALUES (1, 2)")
        #expect(throws: (any Error).self) { try database.migrate(Array(steps.prefix(1))) }
        #expect(throws: (any Error).self) { try database.migrate([SQLiteMigration(version: 2, sql: "")]) }
    }

    @Test("files are created 0600 in WAL mode, and data_version shows another connection's commit")
    func sharedFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/shared.db"
        let hub = try SQLiteDatabase(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try hub.query("PRAGMA journal_mode").first?.text(0) == "wal")
        try hub.execute("CREATE TABLE t (v)")
        let before = try hub.dataVersion()
        #expect(try hub.dataVersion() == before, "own reads do not change it")
        let cli = try SQLiteDatabase(path: path)
        try cli.run("INSERT INTO t VALUES (1)")
        #expect(try hub.dataVersion() != before)
        #expect(try hub.query("SELECT COUNT(*) FROM t").first?.integer(0) == 1)
    }

    @Test("a file that is not a database is refused with a clear error")
    func notADatabase() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/junk.db"
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(throws: SQLiteError.self) { try SQLiteDatabase(path: path) }
    }
}
