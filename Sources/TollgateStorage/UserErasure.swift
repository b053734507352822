import Foundation
import GRDB
import TollgateCore

/// What erasing one user changed (SPEC §13 `DELETE /admin/users/{user}`).
package struct ErasureResult: Sendable, Equatable {
    /// The id that now stands for the user: `erased_` + 16 hex digits.
    package var erasedAs: String
    package var events = 0
    package var rollupRows = 0
    package var keys = 0
    package var feedback = 0
    package var auditEntries = 0
}

extension AccessStore {
    /// Replaces user `user` of org `org` in every usage event, rollup row, key and feedback with
    /// `erased_` + a hash of the user, the org and a random salt — not derivable from the name,
    /// the same everywhere, so every total and grouping is unchanged — and rewrites the audit
    /// entries that name the user in an export's query (`user=…`). One transaction, with
    /// `audit` (the erasure's own entry, naming the new id only).
    package func eraseUser(_ user: String, org: String, audit: (String) -> AuditEntry) async throws -> ErasureResult {
        // A salt from OpenSSL's random source (as key secrets), so the name cannot be recomputed.
        let salt = KeySecret.base62(22)
        let erased = "erased_" + Digest.hex(Digest.sha256(Array(org.utf8) + [0] + Array(user.utf8) + [0] + Array(salt.utf8)).prefix(8))
        let entry = audit(erased)
        let userTables = RollupTable.all.filter { $0.detail.dimensions.contains(.user) }.map(\.name)
        let encoded = user.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? user
        return try await write { db in
            var result = ErasureResult(erasedAs: erased)
            let arguments: StatementArguments = [erased, org, user]
            try db.execute(sql: #"UPDATE usage_events SET "user" = ? WHERE org = ? AND "user" = ?"#, arguments: arguments)
            result.events = db.changesCount
            for table in userTables {
                try db.execute(sql: #"UPDATE \#(table) SET "user" = ? WHERE org = ? AND "user" = ?"#, arguments: arguments)
                result.rollupRows += db.changesCount
            }
            try db.execute(sql: #"UPDATE api_keys SET "user" = ? WHERE org = ? AND "user" = ?"#, arguments: arguments)
            result.keys = db.changesCount
            try db.execute(sql: #"UPDATE feedback SET "user" = ? WHERE org = ? AND "user" = ?"#, arguments: arguments)
            result.feedback = db.changesCount
            // The audit log is append-only by trigger; an erasure is the one rewrite it allows.
            try db.execute(sql: "DROP TRIGGER audit_log_append_only")
            for form in Set([user, encoded]) {
                try db.execute(
                    sql: "UPDATE audit_log SET target = replace(target, ?, ?) WHERE instr(target, ?) > 0",
                    arguments: ["user=" + form, "user=" + erased, "user=" + form])
                result.auditEntries += db.changesCount
            }
            try db.execute(sql: SchemaMigration.auditAppendOnlyTrigger)
            try entry.insert(db)
            return result
        }
    }
}
