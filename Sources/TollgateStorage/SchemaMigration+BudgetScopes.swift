extension SchemaMigration {
    /// Budgets per user and per department (SPEC §7, §13): the `scope` CHECK widened, which SQLite
    /// can only do by rebuilding the table (sqlite.org/lang_altertable.html, "other kinds of table
    /// schema changes"); its rows, unique key and change triggers are carried over as they were.
    static let budgetScopes = SchemaMigration(
        name: "v9-budget-scopes",
        sql: """
            CREATE TABLE budgets_new (
                id TEXT NOT NULL PRIMARY KEY,
                scope TEXT NOT NULL CHECK (scope IN ('key', 'team', 'org', 'user', 'department')),
                scope_id TEXT NOT NULL,
                org TEXT NOT NULL REFERENCES orgs (id),
                limit_nanos INTEGER NOT NULL CHECK (limit_nanos >= 0),
                period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'total')),
                thresholds TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('block', 'alert')),
                enforcement TEXT NOT NULL CHECK (enforcement IN ('strict', 'soft')),
                created_at INTEGER NOT NULL,
                webhook_url TEXT,
                UNIQUE (org, scope, scope_id, period)
            ) STRICT;
            INSERT INTO budgets_new (id, scope, scope_id, org, limit_nanos, period, thresholds, action, enforcement, created_at, webhook_url)
            SELECT id, scope, scope_id, org, limit_nanos, period, thresholds, action, enforcement, created_at, webhook_url FROM budgets;
            DROP TABLE budgets;
            ALTER TABLE budgets_new RENAME TO budgets;
            CREATE TRIGGER budgets_insert AFTER INSERT ON budgets BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER budgets_update AFTER UPDATE ON budgets BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER budgets_delete AFTER DELETE ON budgets BEGIN UPDATE access_version SET version = version + 1; END;
            """)
}
