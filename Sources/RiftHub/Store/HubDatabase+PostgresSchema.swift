import RiftStore

extension HubDatabase {
    /// The PostgreSQL schema, one step per version, equivalent step by step to SQLite's `migrations` (same
    /// tables, columns, keys and indexes): a step added there is ported here with the same number.
    ///
    /// Differences, all deliberate: INTEGER columns are BIGINT (SQLite's integers are 64-bit); every text
    /// column is `COLLATE "C"`, so that ordering and the range scans on DNS names (`dns_name >= 'x-'`) compare
    /// bytes as SQLite does, whatever the database's locale; version 1 also creates `change_marker`, the
    /// counter every administrative write bumps (SQLite's `data_version` plays that part there). Applied steps
    /// are recorded in `schema_migrations`.
    static let postgresMigrations = [
        SQLiteMigration(version: 1, sql: """
            CREATE TABLE networks (
                name TEXT COLLATE "C" PRIMARY KEY,
                ipv4_prefix TEXT COLLATE "C" NOT NULL,
                ipv6_prefix TEXT COLLATE "C" NOT NULL,
                max_peers BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE tokens (
                id TEXT COLLATE "C" PRIMARY KEY,
                network TEXT COLLATE "C" NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
                label TEXT COLLATE "C" NOT NULL,
                hash TEXT COLLATE "C" NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                expires_at BIGINT,
                revoked_at BIGINT,
                last_used_at BIGINT
            );
            CREATE INDEX tokens_by_network ON tokens(network);
            CREATE TABLE peers (
                network TEXT COLLATE "C" NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
                public_key TEXT COLLATE "C" NOT NULL,
                name TEXT COLLATE "C" NOT NULL,
                host_offset BIGINT NOT NULL,
                ipv4 TEXT COLLATE "C" NOT NULL,
                ipv6 TEXT COLLATE "C" NOT NULL,
                first_seen_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                revoked_at BIGINT,
                PRIMARY KEY (network, public_key),
                UNIQUE (network, host_offset)
            );
            CREATE TABLE change_marker (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                value BIGINT NOT NULL
            );
            INSERT INTO change_marker (id, value) VALUES (1, 0);
            """),
        SQLiteMigration(version: 2, sql: """
            CREATE TABLE token_tags (
                token_id TEXT COLLATE "C" PRIMARY KEY REFERENCES tokens(id) ON DELETE CASCADE,
                tags TEXT COLLATE "C" NOT NULL
            );
            CREATE TABLE peer_tags (
                network TEXT COLLATE "C" NOT NULL,
                public_key TEXT COLLATE "C" NOT NULL,
                tags TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (network, public_key),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            );
            CREATE TABLE policies (
                network TEXT COLLATE "C" PRIMARY KEY REFERENCES networks(name) ON DELETE CASCADE,
                text TEXT COLLATE "C" NOT NULL,
                updated_at BIGINT NOT NULL
            );
            """),
        SQLiteMigration(version: 3, sql: """
            CREATE TABLE token_limits (
                token_id TEXT COLLATE "C" PRIMARY KEY REFERENCES tokens(id) ON DELETE CASCADE,
                max_keys BIGINT,
                ephemeral BIGINT NOT NULL
            );
            CREATE TABLE token_keys (
                token_id TEXT COLLATE "C" NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
                public_key TEXT COLLATE "C" NOT NULL,
                admitted_at BIGINT NOT NULL,
                PRIMARY KEY (token_id, public_key)
            );
            CREATE TABLE ephemeral_peers (
                network TEXT COLLATE "C" NOT NULL,
                public_key TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (network, public_key),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            );
            """),
        SQLiteMigration(version: 4, sql: """
            ALTER TABLE networks ADD COLUMN dns_suffix TEXT COLLATE "C" NOT NULL DEFAULT 'rift';
            ALTER TABLE peers ADD COLUMN dns_name TEXT COLLATE "C";
            CREATE UNIQUE INDEX peers_by_dns_name ON peers(network, dns_name);
            """),
        SQLiteMigration(version: 5, sql: """
            ALTER TABLE peers ADD COLUMN name_source TEXT COLLATE "C" NOT NULL DEFAULT 'agent' CHECK (name_source IN ('agent', 'admin'));
            ALTER TABLE peers ADD COLUMN name_revision BIGINT NOT NULL DEFAULT 0;
            CREATE INDEX peers_by_name_revision ON peers(name_revision);
            """),
        SQLiteMigration(version: 6, sql: """
            CREATE TABLE advertised_routes (
                network TEXT COLLATE "C" NOT NULL,
                public_key TEXT COLLATE "C" NOT NULL,
                prefix TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (network, public_key, prefix),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            );
            CREATE TABLE approved_routes (
                network TEXT COLLATE "C" NOT NULL,
                public_key TEXT COLLATE "C" NOT NULL,
                prefix TEXT COLLATE "C" NOT NULL,
                approved_at BIGINT NOT NULL,
                PRIMARY KEY (network, public_key, prefix),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            );
            """),
        SQLiteMigration(version: 7, sql: """
            CREATE TABLE exit_nodes (
                network TEXT COLLATE "C" NOT NULL,
                public_key TEXT COLLATE "C" NOT NULL,
                advertised BIGINT NOT NULL CHECK (advertised IN (0, 1)),
                approved_at BIGINT,
                PRIMARY KEY (network, public_key),
                FOREIGN KEY (network, public_key) REFERENCES peers(network, public_key) ON DELETE CASCADE
            );
            """),
        SQLiteMigration(version: 8, sql: """
            ALTER TABLE peers ADD COLUMN token_id TEXT COLLATE "C";
            """),
    ]
}
