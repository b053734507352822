extension SchemaMigration {
    /// The latest failed request of an outcome, status, provider and model, newest first, for
    /// `/admin/stats/errors`: one seek instead of a scan of the range. Partial, so requests that
    /// end `ok` (most of them) cost the writer nothing more.
    static let failureIndex = SchemaMigration(
        name: "v10-failure-index",
        sql: """
            CREATE INDEX usage_events_failures ON usage_events (outcome, status, provider, model, started_at)
                WHERE outcome <> 'ok';
            """)
}
