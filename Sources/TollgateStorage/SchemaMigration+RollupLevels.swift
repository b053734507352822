extension SchemaMigration {
    /// Hourly and daily totals per (bucket, org, key, team, user) and per (bucket, org): the
    /// `RollupDetail.caller` and `RollupDetail.org` tables, with the counters and histogram of
    /// `v1-rollups`. Key, team and user breakdowns and filters otherwise read the full-detail
    /// rollups (a month of daily rows is one per day × org × key × team × user × provider × model,
    /// tens of thousands of histograms to merge), and an hourly timeseries the per-model hourly
    /// rows; the query plan reads the coarsest detail that keeps every dimension a query names.
    ///
    /// The backfill sums rollups already stored — the caller tables from the full-detail ones, the
    /// org tables from the per-model ones (`tollgate_hist` merges their histograms; it is
    /// registered on every connection Tollgate opens, so only Tollgate can apply this migration) —
    /// which are themselves exact sums of the events, so an upgraded file answers the same totals
    /// as before, also for days whose raw events retention has pruned. The SQL is spelled out
    /// rather than built from `UsageSQL` so that this migration never changes once shipped.
    static let rollupLevels = SchemaMigration(
        name: "v4-rollup-levels",
        sql: """
            CREATE TABLE rollup_hourly_caller (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
                key_id TEXT NOT NULL,
                team TEXT NOT NULL,
                "user" TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org, key_id, team, "user")
            ) STRICT, WITHOUT ROWID;
            CREATE TABLE rollup_daily_caller (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
                key_id TEXT NOT NULL,
                team TEXT NOT NULL,
                "user" TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org, key_id, team, "user")
            ) STRICT, WITHOUT ROWID;
            CREATE TABLE rollup_hourly_by_org (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org)
            ) STRICT, WITHOUT ROWID;
            CREATE TABLE rollup_daily_by_org (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org)
            ) STRICT, WITHOUT ROWID;
            INSERT INTO rollup_hourly_caller (bucket_start, org, key_id, team, "user", requests, ok_requests, error_requests, blocked_requests, cached_requests, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, potential_cost_nanos, prompt_cache_savings_nanos, charged_nanos, latency_us_sum, latency_hist)
            SELECT bucket_start, org, key_id, team, "user",
                SUM(requests),
                SUM(ok_requests),
                SUM(error_requests),
                SUM(blocked_requests),
                SUM(cached_requests),
                SUM(unpriced_requests),
                SUM(input_tokens),
                SUM(output_tokens),
                SUM(cached_input_tokens),
                SUM(cache_write_tokens),
                SUM(reasoning_tokens),
                SUM(cost_nanos),
                SUM(potential_cost_nanos),
                SUM(prompt_cache_savings_nanos),
                SUM(charged_nanos),
                SUM(latency_us_sum),
                tollgate_hist(latency_hist)
            FROM rollup_hourly
            GROUP BY bucket_start, org, key_id, team, "user";
            INSERT INTO rollup_daily_caller (bucket_start, org, key_id, team, "user", requests, ok_requests, error_requests, blocked_requests, cached_requests, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, potential_cost_nanos, prompt_cache_savings_nanos, charged_nanos, latency_us_sum, latency_hist)
            SELECT bucket_start, org, key_id, team, "user",
                SUM(requests),
                SUM(ok_requests),
                SUM(error_requests),
                SUM(blocked_requests),
                SUM(cached_requests),
                SUM(unpriced_requests),
                SUM(input_tokens),
                SUM(output_tokens),
                SUM(cached_input_tokens),
                SUM(cache_write_tokens),
                SUM(reasoning_tokens),
                SUM(cost_nanos),
                SUM(potential_cost_nanos),
                SUM(prompt_cache_savings_nanos),
                SUM(charged_nanos),
                SUM(latency_us_sum),
                tollgate_hist(latency_hist)
            FROM rollup_daily
            GROUP BY bucket_start, org, key_id, team, "user";
            INSERT INTO rollup_hourly_by_org (bucket_start, org, requests, ok_requests, error_requests, blocked_requests, cached_requests, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, potential_cost_nanos, prompt_cache_savings_nanos, charged_nanos, latency_us_sum, latency_hist)
            SELECT bucket_start, org,
                SUM(requests),
                SUM(ok_requests),
                SUM(error_requests),
                SUM(blocked_requests),
                SUM(cached_requests),
                SUM(unpriced_requests),
                SUM(input_tokens),
                SUM(output_tokens),
                SUM(cached_input_tokens),
                SUM(cache_write_tokens),
                SUM(reasoning_tokens),
                SUM(cost_nanos),
                SUM(potential_cost_nanos),
                SUM(prompt_cache_savings_nanos),
                SUM(charged_nanos),
                SUM(latency_us_sum),
                tollgate_hist(latency_hist)
            FROM rollup_hourly_model
            GROUP BY bucket_start, org;
            INSERT INTO rollup_daily_by_org (bucket_start, org, requests, ok_requests, error_requests, blocked_requests, cached_requests, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, potential_cost_nanos, prompt_cache_savings_nanos, charged_nanos, latency_us_sum, latency_hist)
            SELECT bucket_start, org,
                SUM(requests),
                SUM(ok_requests),
                SUM(error_requests),
                SUM(blocked_requests),
                SUM(cached_requests),
                SUM(unpriced_requests),
                SUM(input_tokens),
                SUM(output_tokens),
                SUM(cached_input_tokens),
                SUM(cache_write_tokens),
                SUM(reasoning_tokens),
                SUM(cost_nanos),
                SUM(potential_cost_nanos),
                SUM(prompt_cache_savings_nanos),
                SUM(charged_nanos),
                SUM(latency_us_sum),
                tollgate_hist(latency_hist)
            FROM rollup_daily_model
            GROUP BY bucket_start, org;
            """)
}
