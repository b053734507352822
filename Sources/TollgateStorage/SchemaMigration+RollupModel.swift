extension SchemaMigration {
    /// Hourly and daily totals per (bucket, org, provider, model): the `RollupDetail.model` tables,
    /// with the counters and histogram of `v1-rollups`. A month of the full-detail daily rollups
    /// is one row per (day, org, key, team, user, provider, model), tens of thousands of latency
    /// histograms to merge for an unfiltered month; these hold one row per (day, org, provider,
    /// model), and the query plan reads them whenever a query names no key, team, user or tag.
    ///
    /// The backfill sums the existing full-detail rollups (`tollgate_hist` merges their histograms;
    /// it is registered on every connection Tollgate opens, so only Tollgate can apply this
    /// migration), which are themselves exact sums of the events, so an upgraded file answers the
    /// same totals as before. The SQL is spelled out rather than built from `UsageSQL` so that this
    /// migration never changes once shipped.
    static let rollupModel = SchemaMigration(
        name: "v3-rollup-model",
        sql: """
            CREATE TABLE rollup_hourly_model (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org, provider, model)
            ) STRICT, WITHOUT ROWID;
            CREATE TABLE rollup_daily_model (
                bucket_start INTEGER NOT NULL,
                org TEXT NOT NULL,
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
                PRIMARY KEY (bucket_start, org, provider, model)
            ) STRICT, WITHOUT ROWID;
            INSERT INTO rollup_hourly_model (bucket_start, org, provider, model, requests, ok_requests, error_requests, blocked_requests, cached_requests, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, potential_cost_nanos, prompt_cache_savings_nanos, charged_nanos, latency_us_sum, latency_hist)
            SELECT bucket_start, org, provider, model,
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
            GROUP BY bucket_start, org, provider, model;
            INSERT INTO rollup_daily_model (bucket_start, org, provider, model, requests, ok_requests, error_requests, blocked_requests, cached_requests, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, potential_cost_nanos, prompt_cache_savings_nanos, charged_nanos, latency_us_sum, latency_hist)
            SELECT bucket_start, org, provider, model,
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
            GROUP BY bucket_start, org, provider, model;
            """)
}
