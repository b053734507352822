import GRDB
import TollgateCore

/// What a caller said about one answer: a rating from 1 to 5, whether it helped, a comment.
package struct Feedback: Sendable, Equatable {
    package var rating: Int?
    package var helpful: Bool?
    package var comment: String?
    package var ratedAtMs: Int64

    package init(rating: Int?, helpful: Bool?, comment: String?, ratedAtMs: Int64) {
        (self.rating, self.helpful, self.comment, self.ratedAtMs) = (rating, helpful, comment, ratedAtMs)
    }
}

/// How people received the answers of a set of requests: `feedback_count`, `avg_rating`.
package struct FeedbackTotals: Sendable, Equatable {
    /// Requests with feedback.
    package var count: Int64 = 0
    /// Of those, the ones rated, and the sum of their ratings.
    package var rated: Int64 = 0
    package var ratingSum: Int64 = 0

    package init() {}
}

/// Feedback on requests, stored with the request's dimensions (`SchemaMigration.feedback`).
package struct FeedbackStore: Sendable {
    let pool: DatabasePool

    package init(database: TollgateDatabase) {
        pool = database.pool
    }

    /// Saves `feedback` on `event`'s request, replacing any earlier feedback on it.
    package func save(_ feedback: Feedback, on event: UsageEvent) async throws {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO feedback (request_id, started_at, org, key_id, team, "user", department, session, tags, provider,
                            endpoint, model, status, outcome, rating, helpful, comment, rated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (request_id) DO UPDATE SET rating = excluded.rating, helpful = excluded.helpful,
                            comment = excluded.comment, rated_at = excluded.rated_at
                        """,
                    arguments: [
                        event.requestID, event.startedAtMs, event.org, event.keyID, event.team, event.user, event.department,
                        event.session, event.tagsJSON, event.provider, event.endpoint.rawValue, event.model, event.status,
                        event.outcome.rawValue, feedback.rating, feedback.helpful, feedback.comment, feedback.ratedAtMs,
                    ])
            }
        } catch {
            throw StorageError(.databaseFailed, "cannot save feedback", underlying: error)
        }
    }

    /// Feedback totals per time bucket and/or group of the requests the filter covers (by the
    /// requests' start, as every stats figure). `rebucket` as in `UsageStore.activeUsers`.
    package func totals(
        filter: StatsFilter, groupBy: [StatsDimension] = [], granularity: RollupGranularity? = nil,
        rebucket: BucketMap? = nil
    ) async throws -> [StatsGroupKey: FeedbackTotals] {
        var columns: [String] = []
        if let granularity { columns.append(UsageSQL.bucketStart("started_at", size: granularity.milliseconds)) }
        for dimension in groupBy {
            if case .tag(let name) = dimension {
                columns.append("json_extract(tags, \(try StatsQueryPlan.Segment.quotedTagPath(name)))")
            } else {
                columns.append(dimension.rawColumn)
            }
        }
        let (conditions, arguments) = try filter.rawConditions(timeColumn: "started_at")
        var sql = "SELECT \((columns + ["COUNT(*)", "COUNT(rating)", "coalesce(SUM(rating), 0)"]).joined(separator: ", ")) FROM feedback"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        if !columns.isEmpty { sql += " GROUP BY " + (1...columns.count).map(String.init).joined(separator: ", ") }
        let (query, queryArguments, hasBucket, width) = (sql, arguments, granularity != nil, columns.count)
        do {
            return try await pool.read { db in
                var totals: [StatsGroupKey: FeedbackTotals] = [:]
                for row in try Row.fetchAll(db, sql: query, arguments: queryArguments) {
                    let bucket: Int64? = hasBucket ? row[0] : nil
                    let key = StatsGroupKey(
                        bucketStart: bucket.map { rebucket?.callAsFunction($0) ?? $0 },
                        values: ((hasBucket ? 1 : 0)..<width).map { String.fromDatabaseValue(row[$0]) })
                    var sum = totals[key] ?? FeedbackTotals()
                    sum.count += row[width]
                    sum.rated += row[width + 1]
                    sum.ratingSum += row[width + 2]
                    totals[key] = sum
                }
                return totals
            }
        } catch {
            throw StorageError(.databaseFailed, "cannot read feedback", underlying: error)
        }
    }
}
