import RiftStore
#if canImport(Glibc)
import Glibc
#endif

extension StateMigration {
    /// One table of the SQLite database as the migration copies it: its columns and the tables its foreign keys
    /// point to (which are copied before it).
    struct SourceTable: Sendable, Hashable {
        var name: String
        var columns: [String]
        var references: Set<String>

        /// The most parameters one multi-row INSERT binds (PostgreSQL accepts 65,535).
        static let parametersPerInsert = 6000

        /// Every table of the hub's schema (SQLite's own `sqlite_*` tables aside), each after the tables it
        /// references, so that foreign keys hold at every insert.
        static func all(in database: any SQLConnection) throws(SQLiteError) -> [SourceTable] {
            let names = try database.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                .compactMap { $0.text(0) }
            var tables: [SourceTable] = []
            for name in names {
                let columns = try database.query("PRAGMA table_info(\(quoted(name)))").compactMap { $0.text(1) }
                let references = try database.query("PRAGMA foreign_key_list(\(quoted(name)))").compactMap { $0.text(2) }
                tables.append(SourceTable(name: name, columns: columns, references: Set(references).subtracting([name])))
            }
            return try dependencyOrder(tables)
        }

        /// `tables` ordered so that each comes after every table it references; fails on a cycle (which the
        /// schema does not have: a cycle could not be copied table by table).
        static func dependencyOrder(_ tables: [SourceTable]) throws(SQLiteError) -> [SourceTable] {
            var ordered: [SourceTable] = [], placed = Set<String>(), remaining = tables
            let known = Set(tables.map(\.name))
            while !remaining.isEmpty {
                let ready = remaining.filter { $0.references.intersection(known).isSubset(of: placed) }
                guard !ready.isEmpty else {
                    throw SQLiteError(code: SQLiteError.wrapperMisuse, reason: "the foreign keys of \(remaining.map(\.name).joined(separator: ", ")) form a cycle")
                }
                ordered += ready
                placed.formUnion(ready.map(\.name))
                remaining.removeAll { placed.contains($0.name) }
            }
            return ordered
        }

        /// Copies every row of the table from `source` to `target` in multi-row INSERTs; returns how many it copied.
        func copy(from source: any SQLConnection, to target: any SQLConnection) throws(SQLiteError) -> Int {
            let columnList = columns.map(Self.quoted).joined(separator: ", ")
            let rows = try source.query("SELECT \(columnList) FROM \(Self.quoted(name))")
            let rowPlaceholder = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
            let batch = max(1, Self.parametersPerInsert / max(1, columns.count))
            var start = 0
            while start < rows.count {
                let slice = rows[start..<min(start + batch, rows.count)]
                let placeholders = Array(repeating: rowPlaceholder, count: slice.count).joined(separator: ", ")
                try target.run("INSERT INTO \(Self.quoted(name)) (\(columnList)) VALUES \(placeholders)", slice.flatMap(\.values))
                start += slice.count
            }
            return rows.count
        }

        /// The table's number of rows in `database`.
        func count(in database: any SQLConnection) throws(SQLiteError) -> Int {
            try Self.count(name, in: database)
        }

        static func count(_ table: String, in database: any SQLConnection) throws(SQLiteError) -> Int {
            Int(try database.query("SELECT COUNT(*) FROM \(quoted(table))").first?.integer(0) ?? 0)
        }

        /// `identifier` as a quoted SQL identifier (both engines), so that a column named like a keyword is safe.
        static func quoted(_ identifier: String) -> String {
            var text = "\""
            for character in identifier {
                if character == "\"" { text += "\"\"" } else { text.append(character) }
            }
            return text + "\""
        }
    }

    /// Whether `path` names an existing regular file.
    static func isFile(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }
}

extension StateMigration {
    /// Whether `path` names an existing directory.
    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }
}
