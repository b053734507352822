import GRDB
import TollgateCore

/// One line of the audit log (SPEC §13): who did what to which record, when, from where, and how
/// it ended.
package struct AuditEntry: Sendable, Equatable {
    /// `aud_…`
    package var id: String
    package var atMs: Int64
    /// `master`, an admin key's id (`key_…`), or `cli:<os user>` for the command line.
    package var actor: String
    /// `org.create`, `key.revoke`, `budget.update`, `pricing.reload`, `cache.clear`, `export`,
    /// `signin.api`, `signin.dashboard`, ….
    package var action: String
    /// The record acted on (an org, key or budget id), when there is one.
    package var target: String?
    package var org: String?
    /// The client's address (TCP peer), when it came over HTTP.
    package var ip: String?
    /// `ok`, or `failed` (a refused sign-in).
    package var outcome: String

    package init(
        id: String = KeySecret.id("aud"), atMs: Int64, actor: String, action: String, target: String? = nil, org: String? = nil,
        ip: String? = nil, outcome: String = "ok"
    ) {
        (self.id, self.atMs, self.actor, self.action, self.target) = (id, atMs, actor, action, target)
        (self.org, self.ip, self.outcome) = (org, ip, outcome)
    }

    /// Appends the entry inside the caller's transaction: the change and its record commit together.
    func insert(_ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO audit_log (id, at, actor, action, target, org, ip, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [id, atMs, actor, action, target, org, ip, outcome])
    }

    init(row: Row) {
        self.init(
            id: row["id"], atMs: row["at"], actor: row["actor"], action: row["action"], target: row["target"], org: row["org"],
            ip: row["ip"], outcome: row["outcome"])
    }
}

/// Which audit entries a query covers; nil matches everything. `from` inclusive, `to` exclusive.
package struct AuditFilter: Sendable, Equatable {
    package var from: Int64?
    package var to: Int64?
    package var org: String?
    package var actor: String?
    package var action: String?

    package init(from: Int64? = nil, to: Int64? = nil, org: String? = nil, actor: String? = nil, action: String? = nil) {
        (self.from, self.to, self.org, self.actor, self.action) = (from, to, org, actor, action)
    }
}

/// Reads and appends the audit log. Changes to orgs, keys and budgets append theirs through
/// `AccessStore`, in the transaction of the change; sign-ins and exports, which change nothing,
/// through `append`.
package struct AuditLog: Sendable {
    let pool: DatabasePool

    package init(database: TollgateDatabase) {
        pool = database.pool
    }

    package func append(_ entry: AuditEntry) async throws {
        do {
            try await pool.write { db in try entry.insert(db) }
        } catch {
            throw StorageError(.databaseFailed, "cannot write the audit log", underlying: error)
        }
    }

    /// Entries newest first, at most `limit`, continuing after `cursor` (the last entry of the
    /// previous page); the cursor of the next page when there is one.
    package func entries(_ filter: AuditFilter, limit: Int, after cursor: AuditEntry? = nil) async throws -> (entries: [AuditEntry], next: AuditEntry?) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        for (column, value) in [("org", filter.org), ("actor", filter.actor), ("action", filter.action)] {
            guard let value else { continue }
            conditions.append("\(column) = ?")
            arguments += [value]
        }
        if let from = filter.from {
            conditions.append("at >= ?")
            arguments += [from]
        }
        if let to = filter.to {
            conditions.append("at < ?")
            arguments += [to]
        }
        if let cursor {
            conditions.append("(at < ? OR (at = ? AND id < ?))")
            arguments += [cursor.atMs, cursor.atMs, cursor.id]
        }
        let pageSize = max(limit, 0)
        var sql = "SELECT * FROM audit_log"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY at DESC, id DESC LIMIT \(pageSize + 1)"
        let query = sql
        let queryArguments = arguments
        do {
            return try await pool.read { db in
                var entries = try Row.fetchAll(db, sql: query, arguments: queryArguments).map(AuditEntry.init(row:))
                guard entries.count > pageSize else { return (entries, nil) }
                entries.removeLast()
                return (entries, entries.last)
            }
        } catch {
            throw StorageError(.databaseFailed, "cannot read the audit log", underlying: error)
        }
    }

    /// Deletes entries older than `cutoffMs` (retention); returns how many.
    package func prune(before cutoffMs: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM audit_log WHERE at < ?", arguments: [cutoffMs])
            return db.changesCount
        }
    }
}
