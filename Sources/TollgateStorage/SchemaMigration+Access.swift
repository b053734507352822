extension SchemaMigration {
    /// Orgs, Tollgate keys, budgets and alerts (SPEC §3, §7). Keys are stored only as the SHA-256
    /// of their secret. Budget spend is not stored here: it is the sum of the rollups of the
    /// budget's scope over its period, which commit in the same transaction as the usage events.
    ///
    /// `access_version` counts changes to orgs, keys and budgets (triggers, so the CLI's writes count
    /// too): a running server polls it and reloads its in-memory copy when it moves. `last_used_at`
    /// is left out of the key trigger: it changes on every use and needs no reload.
    static let access = SchemaMigration(
        name: "v2-access",
        sql: """
            CREATE TABLE orgs (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                markup_ppm INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL
            ) STRICT;
            INSERT INTO orgs (id, name, markup_ppm, created_at)
                VALUES ('default', 'Default', 0, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
            CREATE TABLE api_keys (
                id TEXT NOT NULL PRIMARY KEY,
                key_hash TEXT NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                org TEXT NOT NULL REFERENCES orgs (id),
                name TEXT NOT NULL DEFAULT '',
                team TEXT,
                "user" TEXT,
                department TEXT,
                role TEXT NOT NULL CHECK (role IN ('client', 'admin')),
                allowed_models TEXT NOT NULL DEFAULT '[]',
                rpm_limit INTEGER,
                tpm_limit INTEGER,
                cache TEXT NOT NULL DEFAULT 'default',
                expires_at INTEGER,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER,
                last_used_at INTEGER
            ) STRICT;
            CREATE INDEX api_keys_org ON api_keys (org, id);
            CREATE TABLE budgets (
                id TEXT NOT NULL PRIMARY KEY,
                scope TEXT NOT NULL CHECK (scope IN ('key', 'team', 'org')),
                scope_id TEXT NOT NULL,
                org TEXT NOT NULL REFERENCES orgs (id),
                limit_nanos INTEGER NOT NULL CHECK (limit_nanos >= 0),
                period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'total')),
                thresholds TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('block', 'alert')),
                enforcement TEXT NOT NULL CHECK (enforcement IN ('strict', 'soft')),
                created_at INTEGER NOT NULL,
                UNIQUE (org, scope, scope_id, period)
            ) STRICT;
            CREATE TABLE alerts (
                id TEXT NOT NULL PRIMARY KEY,
                dedupe_key TEXT NOT NULL UNIQUE,
                budget_id TEXT,
                org TEXT,
                kind TEXT NOT NULL,
                threshold_bp INTEGER,
                period_start INTEGER NOT NULL,
                fired_at INTEGER NOT NULL,
                message TEXT NOT NULL,
                payload TEXT NOT NULL,
                delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1)),
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            ) STRICT;
            CREATE INDEX alerts_fired_at ON alerts (fired_at);
            CREATE TABLE access_version (
                id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL
            ) STRICT;
            INSERT INTO access_version (id, version) VALUES (1, 0);
            CREATE TRIGGER orgs_insert AFTER INSERT ON orgs BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER orgs_update AFTER UPDATE ON orgs BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER orgs_delete AFTER DELETE ON orgs BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER api_keys_insert AFTER INSERT ON api_keys BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER api_keys_update AFTER UPDATE OF
                key_hash, prefix, org, name, team, "user", department, role, allowed_models, rpm_limit, tpm_limit,
                cache, expires_at, revoked_at ON api_keys
                BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER api_keys_delete AFTER DELETE ON api_keys BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER budgets_insert AFTER INSERT ON budgets BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER budgets_update AFTER UPDATE ON budgets BEGIN UPDATE access_version SET version = version + 1; END;
            CREATE TRIGGER budgets_delete AFTER DELETE ON budgets BEGIN UPDATE access_version SET version = version + 1; END;
            """)
}
