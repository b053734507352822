/// A named schema migration: plain SQL, applied once, in order, and never edited once shipped
/// (GRDB's advice). Change the schema with a new migration instead.
package struct SchemaMigration: Sendable {
    package var name: String
    package var sql: String

    package init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// The storage module's migrations, in the order they apply.
    package static let storage: [SchemaMigration] = [usage, rollups, probe, access, cache, retention, rollupModel, rollupLevels, audit, feedback, webhooks, rollupDimensions, budgetScopes, failureIndex, rollupTags]

    /// One row per request (SPEC §5), keyed by its request id. Times are Unix milliseconds, money
    /// integer nano-dollars, latencies milliseconds, booleans 0/1, `tags` a JSON object of strings.
    static let usage = SchemaMigration(
        name: "v1-usage",
        sql: """
            CREATE TABLE usage_events (
                request_id TEXT NOT NULL PRIMARY KEY,
                started_at INTEGER NOT NULL,
                org TEXT NOT NULL,
                key_id TEXT NOT NULL,
                team TEXT,
                "user" TEXT,
                department TEXT,
                session TEXT,
                tags TEXT NOT NULL DEFAULT '{}',
                provider TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                model TEXT NOT NULL,
                status INTEGER NOT NULL,
                outcome TEXT NOT NULL,
                stream INTEGER NOT NULL CHECK (stream IN (0, 1)),
                cached INTEGER NOT NULL CHECK (cached IN (0, 1)),
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cached_input_tokens INTEGER NOT NULL,
                cache_write_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                cost_nanos INTEGER NOT NULL,
                potential_cost_nanos INTEGER NOT NULL,
                prompt_cache_savings_nanos INTEGER NOT NULL,
                charged_nanos INTEGER NOT NULL,
                latency_ms REAL NOT NULL,
                ttfb_ms REAL,
                upstream_ms REAL,
                bytes_in INTEGER NOT NULL,
                bytes_out INTEGER NOT NULL,
                usage_source TEXT NOT NULL,
                priced INTEGER NOT NULL CHECK (priced IN (0, 1)),
                pricing_version TEXT,
                error TEXT
            ) STRICT;
            CREATE INDEX usage_events_started_at ON usage_events (started_at);
            CREATE INDEX usage_events_org_started_at ON usage_events (org, started_at);
            """)

    /// Hourly and daily totals per (bucket, org, key, team, user, provider, model). `bucket_start` is
    /// the UTC hour or day start in Unix milliseconds; a missing team or user is stored as ''.
    /// `latency_us_sum` is the sum of each request's latency rounded to whole microseconds (an
    /// integer, so sums are exact in any order); `latency_hist` is a `LatencyHistogram`.
    static let rollups = SchemaMigration(
        name: "v1-rollups",
        sql: """
            CREATE TABLE rollup_hourly (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
                key_id TEXT NOT NULL,
                team TEXT NOT NULL,
                "user" TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org, key_id, team, "user", provider, model)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX rollup_hourly_org ON rollup_hourly (org, bucket_start);
            CREATE TABLE rollup_daily (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
                key_id TEXT NOT NULL,
                team TEXT NOT NULL,
                "user" TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org, key_id, team, "user", provider, model)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX rollup_daily_org ON rollup_daily (org, bucket_start);
            """)

    /// A one-row table the readiness check writes to.
    static let probe = SchemaMigration(
        name: "v1-storage-probe",
        sql: """
            CREATE TABLE storage_probe (
                id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                checked_at INTEGER NOT NULL
            ) STRICT;
            """)
}
