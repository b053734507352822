import Foundation
import GRDB
import TollgateCore

/// The response cache in SQLite, so entries survive a restart (SPEC §8). The server keeps the
/// recently used ones in memory (`ResponseCache`) and reads here only on a memory miss.
package struct CacheStore: Sendable {
    /// Sizes, for `GET /admin/cache` and `tollgate cache stats`.
    package struct Totals: Sendable, Equatable {
        package var entries: Int
        package var bytes: Int64
    }

    private let pool: DatabasePool

    package init(database: TollgateDatabase) {
        pool = database.pool
    }

    /// The live entry for `key`, if any.
    package func entry(_ key: String, nowMs: Int64) async throws -> CachedAnswer? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM cache_entries WHERE key = ? AND expires_at > ?", arguments: [key, nowMs])
                .flatMap(Self.answer)
        }
    }

    /// Stores (or replaces) entries, in one transaction.
    package func save(_ answers: [CachedAnswer]) async throws {
        guard !answers.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO cache_entries (key, org, provider, format, endpoint, model, body, input_tokens,
                        output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for answer in answers {
                try statement.execute(arguments: [
                    answer.key, answer.org, answer.provider, answer.format.rawValue, answer.endpoint.rawValue, answer.model,
                    Data(answer.body), answer.usage.inputTokens, answer.usage.outputTokens, answer.usage.cachedInputTokens,
                    answer.usage.cacheWriteTokens, answer.usage.reasoningTokens, answer.costNanos, answer.createdAtMs,
                    answer.expiresAtMs,
                ])
            }
        }
    }

    /// The keys of the live entries (to know, without a read, which keys are worth looking up).
    package func keys(nowMs: Int64) async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT key FROM cache_entries WHERE expires_at > ?", arguments: [nowMs]) }
    }

    /// Deletes every entry, or one org's; returns how many. Moves the generation.
    package func clear(org: String? = nil) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM cache_entries WHERE ?1 IS NULL OR org = ?1", arguments: [org])
            let deleted = db.changesCount
            try db.execute(sql: "UPDATE cache_generation SET generation = generation + 1")
            return deleted
        }
    }

    /// Deletes expired entries; returns how many.
    package func purgeExpired(nowMs: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM cache_entries WHERE expires_at <= ?", arguments: [nowMs])
            return db.changesCount
        }
    }

    package func generation() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT generation FROM cache_generation") ?? 0 }
    }

    /// Live entries and their body bytes, optionally of one org.
    package func totals(org: String? = nil, nowMs: Int64) async throws -> Totals {
        try await pool.read { db in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT count(*), coalesce(sum(length(body)), 0) FROM cache_entries WHERE expires_at > ?1 AND (?2 IS NULL OR org = ?2)",
                arguments: [nowMs, org])
            return Totals(entries: row?[0] ?? 0, bytes: row?[1] ?? 0)
        }
    }

    static func answer(_ row: Row) -> CachedAnswer? {
        guard let format = ProviderFormat(rawValue: row["format"]), let endpoint = Endpoint(rawValue: row["endpoint"]) else {
            return nil
        }
        let data: Data = row["body"] ?? Data()
        let body = [UInt8](data)
        return CachedAnswer(
            key: row["key"], org: row["org"], provider: row["provider"], format: format, endpoint: endpoint, model: row["model"],
            body: body,
            usage: Usage(
                inputTokens: row["input_tokens"], outputTokens: row["output_tokens"], cachedInputTokens: row["cached_input_tokens"],
                cacheWriteTokens: row["cache_write_tokens"], reasoningTokens: row["reasoning_tokens"]),
            costNanos: row["cost_nanos"], createdAtMs: row["created_at"], expiresAtMs: row["expires_at"])
    }
}
