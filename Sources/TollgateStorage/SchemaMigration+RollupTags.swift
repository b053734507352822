extension SchemaMigration {
    /// Rollups of the tags named in `analytics.rollup_tags` (SPEC §13, `TagRollups`): per tag,
    /// bucket, org and value, hourly and daily, with the counters and histogram of every rollup.
    /// `kind` says what a row counts: 0 the org's requests without the tag (value ''), 1 those
    /// with the value, 2 those whose value came past the day's bound on distinct values (value '').
    /// The key starts with the tag, which every query names; the time index serves retention.
    /// `rollup_tags` holds the tags rolled up, each with its bound, as last configured.
    static let rollupTags = SchemaMigration(
        name: "v11-rollup-tags",
        sql: """
            CREATE TABLE rollup_tags (
                name TEXT NOT NULL PRIMARY KEY,
                max_values INTEGER NOT NULL CHECK (max_values > 0)
            ) STRICT;
            CREATE TABLE rollup_hourly_tag (
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
            CREATE INDEX rollup_hourly_tag_time ON rollup_hourly_tag (bucket_start);
            CREATE TABLE rollup_daily_tag (
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
            CREATE INDEX rollup_daily_tag_time ON rollup_daily_tag (bucket_start);
            """)
}
