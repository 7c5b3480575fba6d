import RiftStore

/// The hub's database: networks, token hashes and peers, in SQLite (one hub) or PostgreSQL (a cluster of hubs).
///
/// One instance owns one connection. The hub uses its instance on the WebSocket service thread only; the
/// admin CLI opens its own in another process. With SQLite, WAL mode and a busy timeout let both work on the
/// same file; with PostgreSQL, every write transaction holds one advisory lock, so the same read-then-write
/// steps stay correct when several hubs and the CLI share the database. The SQL is written once, in the subset
/// both engines accept (see `SQLConnection`); only the schema (`migrations`, `postgresMigrations`) and the change
/// marker differ. Every operation throws `HubStoreError` (engine failures as `.storage`).
public final class HubDatabase {
    let database: any SQLConnection
    /// Whether each write transaction bumps PostgreSQL's change marker (the admin CLI's connection does, so
    /// that every hub notices its changes; SQLite's `data_version` needs no help).
    let announcesChanges: Bool
    /// Network settings already read, until the change marker moves (`NetworkSettingsCache`).
    var networkCache = NetworkSettingsCache()
    /// Whether writes join one transaction until `commitPendingWrites` (`batchWrites`), and whether it is open.
    var batchesWrites = false
    var batchTransactionOpen = false

    /// Opens or creates the SQLite database at `path` and brings its schema up to date.
    public convenience init(path: String) throws(HubStoreError) {
        try self.init(location: path)
    }

    /// Opens the database at `location`: a PostgreSQL URL (`postgres://user@host/db`), else a SQLite file path
    /// (created if needed), and brings its schema up to date. `announcesChanges` is for administrative
    /// connections: every write becomes visible to running hubs through `changeMarker()`.
    ///
    /// Fails with `.storage` when the database cannot be opened or reached (the reason names the file, or the
    /// host and port, never a password) or its schema is newer than this program's.
    public init(location: String, announcesChanges: Bool = false) throws(HubStoreError) {
        self.announcesChanges = announcesChanges
        do {
            if PostgresURL.isURL(location) {
                let connection = try PostgresConnection(url: location)
                try connection.migrate(Self.postgresMigrations)
                database = connection
            } else {
                let connection = try SQLiteDatabase(path: location, busyTimeout: .seconds(5))
                try connection.migrate(Self.migrations)
                database = connection
            }
        } catch let error as SQLiteError {
            throw HubStoreError(error)
        } catch {
            throw HubStoreError(.storage, "\(error)")
        }
    }

    /// A number that changes whenever an administrative change was committed by another connection: SQLite's
    /// `data_version`, PostgreSQL's counter bumped by every administrative write. One cheap query.
    /// Empties the network settings cache when the marker moved.
    func currentChangeMarker() throws(SQLiteError) -> Int64 {
        let marker = switch database.dialect {
        case .sqlite: try database.query("PRAGMA data_version").first?.integer(0) ?? 0
        case .postgres: try database.query("SELECT value FROM change_marker WHERE id = 1").first?.integer(0) ?? 0
        }
        networkCache.observe(marker: marker)
        return marker
    }

    /// Runs `body` in one write transaction, mapping SQLite failures to `HubStoreError`. While writes are batched
    /// (`batchWrites`), `body` runs as a savepoint of the batch's transaction, which `commitPendingWrites` commits.
    func write<Result>(_ body: () throws -> Result) throws(HubStoreError) -> Result {
        try Self.mapped {
            try openBatchTransactionIfNeeded()
            return try database.transaction { () throws -> Result in
                if announcesChanges, database.dialect == .postgres {
                    try database.run("UPDATE change_marker SET value = value + 1 WHERE id = 1")
                }
                return try body()
            }
        }
    }

    /// Runs `body`, passing `HubStoreError`s on and turning engine failures into `HubStoreError` (`.storage` for
    /// anything that is not a `SQLiteError`).
    static func mapped<Result>(_ body: () throws -> Result) throws(HubStoreError) -> Result {
        do {
            return try body()
        } catch let error as HubStoreError {
            throw error
        } catch let error as SQLiteError {
            throw HubStoreError(error)
        } catch {
            throw HubStoreError(.storage, "\(error)")
        }
    }

    /// Runs one read, mapping SQLite failures to `HubStoreError`.
    func read<Result>(_ body: () throws(SQLiteError) -> Result) throws(HubStoreError) -> Result {
        do {
            return try body()
        } catch {
            throw HubStoreError(error)
        }
    }

    /// The schema, one step per version. Steps are only ever appended.
    static let migrations = [
        SQLiteMigration(version: 1, sql: """
            CREATE TABLE networks (
                name TEXT PRIMARY KEY,
                ipv4_prefix TEXT NOT NULL,
                ipv6_prefix TEXT NOT NULL,
                max_peers INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE tokens (
                id TEXT PRIMARY KEY,
                network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
                label TEXT NOT NULL,
                hash TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                expires_at INTEGER,
                revoked_at INTEGER,
                last_used_at INTEGER
            ) STRICT;
            CREATE INDEX tokens_by_network ON tokens(network);
            CREATE TABLE peers (
                network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
                public_key TEXT NOT NULL,
                name TEXT NOT NULL,
                host_offset INTEGER NOT NULL,
                ipv4 TEXT NOT NULL,
                ipv6 TEXT NOT NULL,
                first_seen_at INTEGER NOT NULL,
                last_seen_at INTEGER NOT NULL,
                revoked_at INTEGER,
                PRIMARY KEY (network, public_key),
                UNIQUE (network, host_offset)
            ) STRICT;
            """),
        // Access policy (issue 17): tags of tokens and peers (comma-separated, sorted) and one policy text per network.
        SQLiteMigration(version: 2, sql: """
            CREATE TABLE token_tags (
                token_id TEXT PRIMARY KEY REFERENCES tokens(id) ON DELETE CASCADE,
                tags TEXT NOT NULL
            ) STRICT;
            CREATE TABLE peer_tags (
                network TEXT NOT NULL,
                public_key TEXT NOT NULL,
                tags TEXT NOT NULL,
                PRIMARY KEY (network, public_key),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            ) STRICT;
            CREATE TABLE policies (
                network TEXT PRIMARY KEY REFERENCES networks(name) ON DELETE CASCADE,
                text TEXT NOT NULL,
                updated_at INTEGER NOT NULL
            ) STRICT;
            """),
        // Per-device tokens (issue 15): how many keys a token may admit, whether its peers are ephemeral, the keys a
        // limited token admitted, and which peers are ephemeral (removed once they have been gone for a while).
        SQLiteMigration(version: 3, sql: """
            CREATE TABLE token_limits (
                token_id TEXT PRIMARY KEY REFERENCES tokens(id) ON DELETE CASCADE,
                max_keys INTEGER,
                ephemeral INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE token_keys (
                token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
                public_key TEXT NOT NULL,
                admitted_at INTEGER NOT NULL,
                PRIMARY KEY (token_id, public_key)
            ) STRICT;
            CREATE TABLE ephemeral_peers (
                network TEXT NOT NULL,
                public_key TEXT NOT NULL,
                PRIMARY KEY (network, public_key),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            ) STRICT;
            """),
        // Names (issue 16): each network's DNS suffix and each peer's DNS label, unique in its network (NULL for a
        // revoked peer, and for peers admitted before this version until they join again).
        SQLiteMigration(version: 4, sql: """
            ALTER TABLE networks ADD COLUMN dns_suffix TEXT NOT NULL DEFAULT 'rift';
            ALTER TABLE peers ADD COLUMN dns_name TEXT;
            CREATE UNIQUE INDEX peers_by_dns_name ON peers(network, dns_name);
            """),
        // Renames by the administrator (issue 16): who set a peer's name ('agent': its hello.name, which every join
        // applies; 'admin': `peer rename`, which joins keep), and a hub-wide sequence number of the last admin rename
        // (0: never), so that a running hub reads only the peers renamed since it last looked.
        SQLiteMigration(version: 5, sql: """
            ALTER TABLE peers ADD COLUMN name_source TEXT NOT NULL DEFAULT 'agent' CHECK (name_source IN ('agent', 'admin'));
            ALTER TABLE peers ADD COLUMN name_revision INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX peers_by_name_revision ON peers(name_revision);
            """),
        // Subnet routes (issue 16): the routes each peer advertised at its last hello (replaced at every hello) and the
        // routes an administrator approved per peer. A route is active, and sent to other peers, when it is both.
        SQLiteMigration(version: 6, sql: """
            CREATE TABLE advertised_routes (
                network TEXT NOT NULL,
                public_key TEXT NOT NULL,
                prefix TEXT NOT NULL,
                PRIMARY KEY (network, public_key, prefix),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            ) STRICT;
            CREATE TABLE approved_routes (
                network TEXT NOT NULL,
                public_key TEXT NOT NULL,
                prefix TEXT NOT NULL,
                approved_at INTEGER NOT NULL,
                PRIMARY KEY (network, public_key, prefix),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            ) STRICT;
            """),
        // Exit nodes (issue 16): one row per peer that advertised an exit node at its last hello or that an
        // administrator approved as one (approved_at NULL: not approved). Active, and sent to other peers, when both.
        SQLiteMigration(version: 7, sql: """
            CREATE TABLE exit_nodes (
                network TEXT NOT NULL,
                public_key TEXT NOT NULL,
                advertised INTEGER NOT NULL CHECK (advertised IN (0, 1)),
                approved_at INTEGER,
                PRIMARY KEY (network, public_key),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            ) STRICT;
            """),
        // The token each peer was last admitted with (no foreign key: a deleted token leaves its id, which then names
        // no live token). A restarted hub reads it to announce a token revoked while it was down.
        SQLiteMigration(version: 8, sql: """
            ALTER TABLE peers ADD COLUMN token_id TEXT;
            """),
    ]
}
