extension SchemaMigration {
    /// Rollups of the tags named in `analytics.rollup_tags` (SPEC §13, `TagRollups`): per tag,
    /// bucket, org and value, hourly and daily, with the counters and histogram of every rollup.
    /// `kind` says what a row counts: 0 the org's requests without the tag (value ''), 1 those
    /// with the value, 2 those whose value came past the day's bound on distinct values (value '').
    /// The key starts with the tag, which every query names; the time index serves retention.
    /// The across-orgs tables (`_all`) have the same columns, with org ''.
    /// `rollup_tags` holds the tags rolled up, each with its bound, as last configured.
    static let rollupTags = SchemaMigration(
        name: "v11-rollup-tags",
        sql: """
            CREATE TABLE rollup_tags (
                name TEXT NOT NULL PRIMARY KEY,
                max_values INTEGER NOT NULL CHECK (max_values > 0)
            ) STRICT;
            \(TagRollupTable.all.map(tagTable).joined(separator: "\n"))
            """)

    private static func tagTable(_ table: TagRollupTable) -> String {
        """
        CREATE TABLE \(table.name) (
            tag TEXT NOT NULL,
            bucket_start INTEGER NOT NULL,
            org TEXT NOT NULL,
            kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),
            value TEXT NOT NULL,
            requests INTEGER NOT NULL,
            ok_requests INTEGER NOT NULL,
            error_requests INTEGER NOT NULL,
            blocked_requests INTEGER NOT NULL,
            cached_requests INTEGER NOT NULL,
            unpriced_requests INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            potential_cost_nanos INTEGER NOT NULL,
            prompt_cache_savings_nanos INTEGER NOT NULL,
            charged_nanos INTEGER NOT NULL,
            latency_us_sum INTEGER NOT NULL,
            latency_hist BLOB NOT NULL,
            PRIMARY KEY (tag, bucket_start, org, kind, value)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX \(table.name)_time ON \(table.name) (bucket_start);
        """
    }
}
