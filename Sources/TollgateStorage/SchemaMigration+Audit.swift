extension SchemaMigration {
    /// The audit log (SPEC §13): one row per admin write, sign-in and export. Append-only: a
    /// trigger refuses every UPDATE, so no code path can rewrite what happened; rows leave only
    /// through retention (`retention.audit_days`).
    static let audit = SchemaMigration(
        name: "v5-audit",
        sql: """
            CREATE TABLE audit_log (
                id TEXT NOT NULL PRIMARY KEY,
                at INTEGER NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT,
                org TEXT,
                ip TEXT,
                outcome TEXT NOT NULL
            ) STRICT;
            CREATE INDEX audit_log_at ON audit_log (at, id);
            CREATE INDEX audit_log_org_at ON audit_log (org, at, id);
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
            BEGIN
                SELECT RAISE(ABORT, 'the audit log is append-only');
            END;
            """)

    /// The append-only trigger of `audit`, as a user erasure recreates it after its rewrite.
    static let auditAppendOnlyTrigger = """
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only');
        END;
        """
}
