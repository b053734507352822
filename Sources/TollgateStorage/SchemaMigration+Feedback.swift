extension SchemaMigration {
    /// Ratings of answers (SPEC §13 `POST /tollgate/v1/feedback`): one row per rated request, the
    /// latest feedback winning. The request's own dimensions are copied in, so every stats filter
    /// and grouping applies to `feedback_count` and `avg_rating` without the raw event, which
    /// retention deletes long before the rollups.
    static let feedback = SchemaMigration(
        name: "v6-feedback",
        sql: """
            CREATE TABLE feedback (
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
                rating INTEGER CHECK (rating BETWEEN 1 AND 5),
                helpful INTEGER CHECK (helpful IN (0, 1)),
                comment TEXT,
                rated_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX feedback_started_at ON feedback (started_at);
            CREATE INDEX feedback_org_started_at ON feedback (org, started_at);
            """)
}
