extension SchemaMigration {
    /// The response cache's persistent copy (SPEC §8): one row per cache key, with the answer's
    /// non-streaming JSON body, the usage and cost of the original request, and its expiry.
    /// `cache_generation` moves when entries are cleared, so a running server drops its memory copy.
    static let cache = SchemaMigration(
        name: "v3-cache",
        sql: """
            CREATE TABLE cache_entries (
                key TEXT NOT NULL PRIMARY KEY,
                org TEXT NOT NULL,
                provider TEXT NOT NULL,
                format TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                model TEXT NOT NULL,
                body BLOB NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cached_input_tokens INTEGER NOT NULL,
                cache_write_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                cost_nanos INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX cache_entries_org ON cache_entries (org);
            CREATE INDEX cache_entries_expires_at ON cache_entries (expires_at);
            CREATE TABLE cache_generation (
                id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                generation INTEGER NOT NULL
            ) STRICT;
            INSERT INTO cache_generation (id, generation) VALUES (1, 0);
            """)
}

extension SchemaMigration {
    /// Where raw events were pruned up to, so a rollup rebuild never starts before it (the events
    /// it would need are gone; the rollups stay the record).
    static let retention = SchemaMigration(
        name: "v3-retention",
        sql: """
            CREATE TABLE retention_state (
                id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                events_pruned_before INTEGER NOT NULL
            ) STRICT;
            """)
}
