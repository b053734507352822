import Foundation
import GRDB
import TollgateCore

/// Orgs, Tollgate keys, budgets and alerts in SQLite (schema: `SchemaMigration.access`).
///
/// The admin API and the CLI both write through this store, each change with its audit entry
/// (`AuditEntry`) in the same transaction; a running proxy reads a whole
/// `AccessSnapshot` at start and again whenever `version()` moves.
package struct AccessStore: Sendable {
    private let pool: DatabasePool

    package init(database: TollgateDatabase) {
        pool = database.pool
    }

    /// The change counter of orgs, keys and budgets.
    package func version() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT version FROM access_version") ?? 0 }
    }

    /// Everything the proxy caches, from one read transaction.
    package func snapshot() async throws -> AccessSnapshot {
        try await read { db in
            AccessSnapshot(
                version: try Int64.fetchOne(db, sql: "SELECT version FROM access_version") ?? 0,
                orgs: try Row.fetchAll(db, sql: "SELECT * FROM orgs ORDER BY id").map(Self.org),
                keys: try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY id").map(Self.key),
                budgets: try Row.fetchAll(db, sql: "SELECT * FROM budgets ORDER BY id").map(Self.budget),
                firedAlerts: Set(try String.fetchAll(db, sql: "SELECT dedupe_key FROM alerts")))
        }
    }

    // MARK: Orgs

    package func orgs() async throws -> [Organization] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM orgs ORDER BY id").map(Self.org) }
    }

    package func org(_ id: String) async throws -> Organization? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM orgs WHERE id = ?", arguments: [id]).map(Self.org) }
    }

    /// Throws `StorageError(.conflict)` when the id exists.
    package func insert(_ org: Organization, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in
            try db.execute(
                sql: "INSERT INTO orgs (id, name, markup_ppm, created_at, webhook_url) VALUES (?, ?, ?, ?, ?)",
                arguments: [org.id, org.name, org.markup.partsPerMillion, org.createdAtMs, org.webhookURL])
        }
    }

    package func update(_ org: Organization, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in
            try db.execute(
                sql: "UPDATE orgs SET name = ?, markup_ppm = ?, webhook_url = ? WHERE id = ?",
                arguments: [org.name, org.markup.partsPerMillion, org.webhookURL, org.id])
        }
    }

    /// Deletes an org that has no keys and no budgets; throws `.conflict` otherwise.
    package func deleteOrg(_ id: String, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in try db.execute(sql: "DELETE FROM orgs WHERE id = ?", arguments: [id]) }
    }

    /// Creates the org with defaults unless it exists (passthrough traffic naming a new org, SPEC §3).
    package func ensureOrgs(_ ids: [String], atMs: Int64) async throws {
        try await write { db in
            for id in ids {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO orgs (id, name, markup_ppm, created_at) VALUES (?, ?, 0, ?)",
                    arguments: [id, id, atMs])
            }
        }
    }

    // MARK: Keys

    /// Keys ordered by id, optionally of one org, starting after the id `after`.
    package func keys(org: String? = nil, after: String? = nil, limit: Int = 1000) async throws -> [TollgateKey] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM api_keys WHERE (?1 IS NULL OR org = ?1) AND (?2 IS NULL OR id > ?2)
                    ORDER BY id LIMIT ?3
                    """,
                arguments: [org, after, limit]
            ).map(Self.key)
        }
    }

    package func key(_ id: String) async throws -> TollgateKey? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.key) }
    }

    package func insert(_ key: TollgateKey, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in
            try db.execute(
                sql: """
                    INSERT INTO api_keys (id, key_hash, prefix, org, name, team, "user", department, role,
                        allowed_models, rpm_limit, tpm_limit, cache, expires_at, created_at, revoked_at, last_used_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key.id, key.hash, key.prefix, key.org, key.name, key.team, key.user, key.department,
                    key.role.rawValue, Self.jsonList(key.allowedModels), key.rpmLimit, key.tpmLimit, key.cache.rawValue,
                    key.expiresAtMs, key.createdAtMs, key.revokedAtMs, key.lastUsedAtMs,
                ])
        }
    }

    /// Saves every field but the secret's hash, prefix, org and creation time, which never change.
    package func update(_ key: TollgateKey, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in
            try db.execute(
                sql: """
                    UPDATE api_keys SET name = ?, team = ?, "user" = ?, department = ?, role = ?, allowed_models = ?,
                        rpm_limit = ?, tpm_limit = ?, cache = ?, expires_at = ?, revoked_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    key.name, key.team, key.user, key.department, key.role.rawValue, Self.jsonList(key.allowedModels),
                    key.rpmLimit, key.tpmLimit, key.cache.rawValue, key.expiresAtMs, key.revokedAtMs, key.id,
                ])
        }
    }

    /// Records when keys were last used (batched by the server; does not move `version()`).
    package func touch(_ lastUsed: [String: Int64]) async throws {
        guard !lastUsed.isEmpty else { return }
        try await write { db in
            for (id, ms) in lastUsed {
                try db.execute(
                    sql: "UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?",
                    arguments: [ms, id])
            }
        }
    }

    // MARK: Budgets

    package func budgets(org: String? = nil) async throws -> [Budget] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM budgets WHERE (?1 IS NULL OR org = ?1) ORDER BY id", arguments: [org])
                .map(Self.budget)
        }
    }

    package func budget(_ id: String) async throws -> Budget? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM budgets WHERE id = ?", arguments: [id]).map(Self.budget) }
    }

    /// The budget with the same org, scope, scope id and period, if any.
    package func budget(matching budget: Budget) async throws -> Budget? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM budgets WHERE org = ? AND scope = ? AND scope_id = ? AND period = ?",
                arguments: [budget.org, budget.scope.rawValue, budget.scopeID, budget.period.rawValue]
            ).map(Self.budget)
        }
    }

    package func insert(_ budget: Budget, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in
            try db.execute(
                sql: """
                    INSERT INTO budgets (id, scope, scope_id, org, limit_nanos, period, thresholds, action, enforcement, created_at,
                        webhook_url)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    budget.id, budget.scope.rawValue, budget.scopeID, budget.org, budget.limitNanos,
                    budget.period.rawValue, Self.thresholdsText(budget.thresholds), budget.action.rawValue,
                    budget.enforcement.rawValue, budget.createdAtMs, budget.webhookURL,
                ])
        }
    }

    package func update(_ budget: Budget, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in
            try db.execute(
                sql: """
                    UPDATE budgets SET scope = ?, scope_id = ?, limit_nanos = ?, period = ?, thresholds = ?, action = ?,
                        enforcement = ?, webhook_url = ?
                    WHERE id = ?
                    """,
                arguments: [
                    budget.scope.rawValue, budget.scopeID, budget.limitNanos, budget.period.rawValue,
                    Self.thresholdsText(budget.thresholds), budget.action.rawValue, budget.enforcement.rawValue,
                    budget.webhookURL, budget.id,
                ])
        }
    }

    package func deleteBudget(_ id: String, audit: AuditEntry? = nil) async throws {
        try await write(audit: audit) { db in try db.execute(sql: "DELETE FROM budgets WHERE id = ?", arguments: [id]) }
    }

    /// What the budget's scope spent (`cost_usd`) from `periodStartMs` on, summed from the daily
    /// rollups: every period starts on a UTC day boundary, and rollups commit with their events.
    package func spentNanos(_ budget: Budget, sinceMs periodStartMs: Int64) async throws -> Int64 {
        try await read { db in try Self.spentNanos(db, budget, sinceMs: periodStartMs) }
    }

    /// `spentNanos` for many budgets in one read transaction.
    package func spentNanos(_ budgets: [(Budget, Int64)]) async throws -> [String: Int64] {
        try await read { db in
            var spent: [String: Int64] = [:]
            for (budget, start) in budgets { spent[budget.id] = try Self.spentNanos(db, budget, sinceMs: start) }
            return spent
        }
    }

    private static func spentNanos(_ db: Database, _ budget: Budget, sinceMs start: Int64) throws -> Int64 {
        // The coarsest daily rollups that keep the scope's dimension (see `RollupDetail`).
        let (table, condition): (String, String) = switch budget.scope {
        case .key: (RollupTable.dailyByCaller.name, " AND key_id = ?")
        case .team: (RollupTable.dailyByCaller.name, " AND team = ?")
        case .user: (RollupTable.dailyByCaller.name, #" AND "user" = ?"#)
        case .department: (RollupTable.dailyByDepartment.name, " AND department = ?")
        case .org: (RollupTable.dailyByOrg.name, "")
        }
        let arguments: StatementArguments = budget.scope == .org ? [budget.org, start] : [budget.org, start, budget.scopeID]
        return try Int64.fetchOne(
            db, sql: "SELECT coalesce(sum(cost_nanos), 0) FROM \(table) WHERE org = ? AND bucket_start >= ?\(condition)",
            arguments: arguments) ?? 0
    }

    // MARK: Alerts

    /// Stores a fired alert; false when one with the same dedupe key exists (it fired already).
    package func insert(_ alert: AlertRecord) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO alerts (id, dedupe_key, budget_id, org, kind, threshold_bp, period_start, fired_at,
                        message, payload, delivered, attempts, last_error, webhook_url)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    alert.id, alert.dedupeKey, alert.budgetID, alert.org, alert.kind, alert.thresholdBP,
                    alert.periodStartMs, alert.firedAtMs, alert.message, alert.payload, alert.delivered,
                    alert.attempts, alert.lastError, alert.webhookURL,
                ])
            return db.changesCount > 0
        }
    }

    package func recordDelivery(id: String, delivered: Bool, attempts: Int, lastError: String?) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE alerts SET delivered = ?, attempts = ?, last_error = ? WHERE id = ?",
                arguments: [delivered, attempts, lastError, id])
        }
    }

    /// The newest `limit` alerts, optionally of one org or budget.
    package func alerts(org: String? = nil, budgetID: String? = nil, limit: Int = 100) async throws -> [AlertRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM alerts WHERE (?1 IS NULL OR org = ?1) AND (?2 IS NULL OR budget_id = ?2)
                    ORDER BY fired_at DESC, id LIMIT ?3
                    """,
                arguments: [org, budgetID, limit]
            ).map(Self.alert)
        }
    }

    /// Alerts not delivered yet (to resume after a restart).
    package func undeliveredAlerts() async throws -> [AlertRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts WHERE delivered = 0 ORDER BY fired_at").map(Self.alert)
        }
    }

    // MARK: Rows

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw StorageError(.databaseFailed, "cannot read the access tables", underlying: error)
        }
    }

    /// Runs `body` in one transaction; `audit`, the change's audit entry, commits with it or not at all.
    func write<T: Sendable>(audit: AuditEntry? = nil, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write { db in
                let result = try body(db)
                try audit?.insert(db)
                return result
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StorageError(.conflict, Self.describe(error), underlying: error)
        } catch {
            throw StorageError(.databaseFailed, "cannot write the access tables", underlying: error)
        }
    }

    private static func describe(_ error: DatabaseError) -> String {
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_FOREIGNKEY: "it is still referenced (keys or budgets belong to it)"
        default: "a record with the same id or the same unique fields already exists"
        }
    }

    static func org(_ row: Row) -> Organization {
        Organization(
            id: row["id"], name: row["name"], markup: Markup(partsPerMillion: row["markup_ppm"]), createdAtMs: row["created_at"],
            webhookURL: row["webhook_url"])
    }

    static func key(_ row: Row) -> TollgateKey {
        TollgateKey(
            id: row["id"], hash: row["key_hash"], prefix: row["prefix"], org: row["org"], name: row["name"],
            team: row["team"], user: row["user"], department: row["department"],
            role: TollgateKey.Role(rawValue: row["role"]) ?? .client, allowedModels: parseList(row["allowed_models"]),
            rpmLimit: row["rpm_limit"], tpmLimit: row["tpm_limit"],
            cache: TollgateKey.CachePolicy(rawValue: row["cache"]) ?? .default, expiresAtMs: row["expires_at"],
            createdAtMs: row["created_at"], revokedAtMs: row["revoked_at"], lastUsedAtMs: row["last_used_at"])
    }

    static func budget(_ row: Row) -> Budget {
        let thresholds: String = row["thresholds"]
        return Budget(
            id: row["id"], scope: Budget.Scope(rawValue: row["scope"]) ?? .org, scopeID: row["scope_id"], org: row["org"],
            limitNanos: row["limit_nanos"], period: BudgetPeriod(rawValue: row["period"]) ?? .month,
            thresholds: thresholds.split(separator: ",").compactMap { Int64($0) },
            action: Budget.Action(rawValue: row["action"]) ?? .block,
            enforcement: Budget.Enforcement(rawValue: row["enforcement"]) ?? .strict, createdAtMs: row["created_at"],
            webhookURL: row["webhook_url"])
    }

    static func alert(_ row: Row) -> AlertRecord {
        AlertRecord(
            id: row["id"], dedupeKey: row["dedupe_key"], budgetID: row["budget_id"], org: row["org"], kind: row["kind"],
            thresholdBP: row["threshold_bp"], periodStartMs: row["period_start"], firedAtMs: row["fired_at"],
            message: row["message"], payload: row["payload"], delivered: row["delivered"], attempts: row["attempts"],
            lastError: row["last_error"], webhookURL: row["webhook_url"])
    }

    static func thresholdsText(_ thresholds: [Int64]) -> String { thresholds.map(String.init).joined(separator: ",") }

    static func jsonList(_ items: [String]) -> String {
        "[" + items.map(JSONText.quoted).joined(separator: ",") + "]"
    }

    static func parseList(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
    }
}
