import GRDB
import TollgateCore

/// Reads usage back: stats from the rollups (exact, see `StatsQueryPlan`), the same stats summed
/// from raw events, raw events page by page, and the rollup rebuild.
///
/// Every read runs in one snapshot (a WAL read transaction), so a query never sees half a batch.
package struct UsageStore: Sendable {
    let pool: DatabasePool

    package init(database: TollgateDatabase) {
        pool = database.pool
    }

    /// Totals for the filter, from the rollups (raw events for partial hours and tag filters).
    package func summary(filter: StatsFilter) async throws -> StatsSummary {
        try await summaries(filter: filter).first?.summary ?? StatsSummary()
    }

    /// Totals for the filter, each request summed from `usage_events` (for checks and for filters
    /// the rollups cannot answer). Slower than `summary` on long ranges; equal to it.
    package func rawSummary(filter: StatsFilter) async throws -> StatsSummary {
        try await summaries(filter: filter, forceRaw: true).first?.summary ?? StatsSummary()
    }

    /// Totals per time bucket and/or group (`timeseries`, `breakdown`), ordered by bucket then by
    /// group values. With neither `groupBy` nor `granularity` it answers one row, also when empty.
    /// Groups with no requests are left out otherwise.
    package func summaries(
        filter: StatsFilter, groupBy: [StatsDimension] = [], granularity: RollupGranularity? = nil,
        forceRaw: Bool = false
    ) async throws -> [StatsGroup] {
        let plan = try await plan(filter: filter, groupBy: groupBy, granularity: granularity, forceRaw: forceRaw)
        // Subtracted segments last: they take requests out of totals the others have put in.
        let segments = plan.segments.filter { !$0.subtracted } + plan.segments.filter(\.subtracted)
        let queries = try segments.map {
            (try $0.sql(filter: filter, groupBy: groupBy, granularity: granularity), subtracted: $0.subtracted)
        }
        let groupColumnCount = groupBy.count + (granularity == nil ? 0 : 1)
        let hasBucket = granularity != nil
        return try await read { db in
            var totals: [StatsGroupKey: StatsSummary] = [:]
            for (query, subtracted) in queries {
                let rows = try Row.fetchCursor(db, sql: query.sql, arguments: query.arguments)
                while let row = try rows.next() {
                    let summary = try StatsSummary(row: row, offset: groupColumnCount)
                    if summary.requests == 0 && groupColumnCount > 0 { continue }
                    let bucketStart: Int64? = hasBucket ? row[0] : nil
                    let values = (hasBucket ? 1 : 0)..<groupColumnCount
                    let key = StatsGroupKey(bucketStart: bucketStart, values: values.map { String.fromDatabaseValue(row[$0]) })
                    if subtracted {
                        totals[key, default: StatsSummary()].subtract(summary)
                    } else {
                        totals[key, default: StatsSummary()].merge(summary)
                    }
                }
            }
            if groupColumnCount == 0 {
                return [StatsGroup(bucketStart: nil, values: [], summary: totals.values.first ?? StatsSummary())]
            }
            return totals.filter { $0.value.requests != 0 }.sorted { $0.key < $1.key }.map {
                StatsGroup(bucketStart: $0.key.bucketStart, values: $0.key.values, summary: $0.value)
            }
        }
    }

    /// The plan of a stats query: the coarsest rollups that keep what it names, else the rollups
    /// of the one configured tag it names (unless a value filter may hide in overflow rows), else
    /// raw events.
    private func plan(
        filter: StatsFilter, groupBy: [StatsDimension], granularity: RollupGranularity?, forceRaw: Bool
    ) async throws -> StatsQueryPlan {
        func planned(detail: RollupDetail? = nil) -> StatsQueryPlan {
            StatsQueryPlan(from: filter.from, to: filter.to, rawOnly: detail == nil, allowDaily: granularity != .hour, detail: detail ?? .full)
        }
        if forceRaw { return planned() }
        if let detail = RollupDetail.coarsest(answering: filter, groupBy: groupBy) { return planned(detail: detail) }
        guard let tag = TagRollups.tag(answering: filter, groupBy: groupBy) else { return planned() }
        let coverage = try await read { db in try TagRollups.coverage(of: tag, filter: filter, db) }
        guard coverage.rolled, !(coverage.overflow && filter.tags[tag] != nil) else { return planned() }
        return StatsQueryPlan(
            from: filter.from, to: filter.to, rawOnly: false, allowDaily: granularity != .hour, tagged: true,
            acrossOrgs: filter.org == nil && !groupBy.contains(.org), allowSubtraction: !coverage.overflow)
    }

    /// Usage events newest first (SPEC §9 `GET /admin/usage`), `limit` at most, continuing after
    /// `cursor` (the `nextCursor` of the previous page). Filters as for stats.
    package func events(filter: StatsFilter, limit: Int, after cursor: UsageEventCursor? = nil) async throws -> UsageEventPage {
        var (conditions, arguments) = try filter.rawConditions(timeColumn: "started_at")
        if let cursor {
            conditions.append("(started_at < ? OR (started_at = ? AND request_id < ?))")
            arguments += [cursor.startedAtMs, cursor.startedAtMs, cursor.requestID]
        }
        let pageSize = max(limit, 0)
        var sql = "SELECT * FROM usage_events"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY started_at DESC, request_id DESC LIMIT \(pageSize + 1)"
        let query = sql
        let queryArguments = arguments
        return try await read { db in
            var events = try Row.fetchAll(db, sql: query, arguments: queryArguments).map(UsageEvent.init(row:))
            var next: UsageEventCursor?
            if events.count > pageSize {
                events.removeLast()
                next = events.last.map { UsageEventCursor(startedAtMs: $0.startedAtMs, requestID: $0.requestID) }
            }
            return UsageEventPage(events: events, nextCursor: next)
        }
    }

    /// The stored event with this request id, if any.
    package func event(requestID: String) async throws -> UsageEvent? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM usage_events WHERE request_id = ?", arguments: [requestID])
                .map(UsageEvent.init(row:))
        }
    }

    /// Recomputes every rollup table (`RollupTable.all`, and the configured tags') from `usage_events` in one transaction
    /// (`tollgate db rebuild-rollups`; after a reprice, for the repriced period), a UTC day of events
    /// at a time so each GROUP BY stays small: the full-detail hourly rows from the events, every
    /// other table from its `RollupTable.source`. With `from`/`to` (Unix ms) only the whole UTC days overlapping
    /// `[from, to)` are rebuilt. Returns the number of events rolled up. Usage writes wait for it;
    /// readers keep seeing the old rollups until it commits.
    @discardableResult
    package func rebuildRollups(from: Int64? = nil, to: Int64? = nil) async throws -> Int {
        let day = RollupGranularity.day
        let hour = RollupGranularity.hour
        let firstDay = from.map { day.bucketStart($0) }
        let endDay = to.map { day.bucketStart($0 - 1) + day.milliseconds }
        func columns(_ table: RollupTable) -> String {
            (table.keyColumns + UsageSQL.rollupCounterColumns + ["latency_hist"]).joined(separator: ", ")
        }
        // The hourly tables filled straight from the events (`RollupTable.source` nil).
        let fromEvents = RollupTable.all.filter { $0.source == nil }.map { table in
            let keys = table.detail.dimensions.map(\.rollupSourceExpression)
            return """
                INSERT INTO \(table.name) (\(columns(table)))
                SELECT \(UsageSQL.bucketStart("started_at", size: hour.milliseconds)), \(keys.joined(separator: ", ")),
                    \(UsageSQL.rawSummaryColumns)
                FROM usage_events WHERE started_at >= ? AND started_at < ?
                GROUP BY \((1...keys.count + 1).map(String.init).joined(separator: ", "))
                """
        }
        func rollup(_ target: RollupTable, from source: RollupTable) -> String {
            let dimensions = target.detail.dimensionColumns
            return """
                INSERT INTO \(target.name) (\(columns(target)))
                SELECT \(UsageSQL.bucketStart("bucket_start", size: target.granularity.milliseconds)),
                    \(dimensions.joined(separator: ", ")), \(UsageSQL.rollupSummaryColumns)
                FROM \(source.name) WHERE bucket_start >= ? AND bucket_start < ?
                GROUP BY \((1...dimensions.count + 1).map(String.init).joined(separator: ", "))
                """
        }
        let derived = RollupTable.all.compactMap { table in table.source.map { rollup(table, from: $0) } }
        return try await write { db in
            // Never rebuild a day that retention pruned events from: the rollups are its only record
            // (SPEC: raw events are kept 90 days, rollups longer).
            let pruned = try Int64.fetchOne(db, sql: "SELECT events_pruned_before FROM retention_state WHERE id = 1")
            let firstComplete = pruned.map { day.bucketStart($0 - 1) + day.milliseconds } ?? .min
            let lower = max(firstDay ?? .min, firstComplete)
            let upper = endDay ?? .max
            for name in RollupTable.all.map(\.name) + TagRollupTable.all.map(\.name) {
                try db.execute(sql: "DELETE FROM \(name) WHERE bucket_start >= ? AND bucket_start < ?", arguments: [lower, upper])
            }
            let tags = try TagRollups.configured(db)
            var rolledUp = 0
            var next = try Int64.fetchOne(db, sql: "SELECT MIN(started_at) FROM usage_events WHERE started_at >= ?", arguments: [lower])
            while let start = next, start < upper {
                let dayStart = day.bucketStart(start)
                let dayEnd = dayStart + day.milliseconds
                for sql in fromEvents {
                    try db.execute(sql: sql, arguments: [dayStart, dayEnd])
                }
                for sql in derived {
                    try db.execute(sql: sql, arguments: [dayStart, dayEnd])
                }
                for tag in tags {
                    try TagRollups.rebuild(tag: tag.name, maxValues: tag.maxValues, dayStart: dayStart, db)
                }
                rolledUp += try Int.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(requests), 0) FROM \(RollupTable.dailyByOrg.name) WHERE bucket_start = ?",
                    arguments: [dayStart]) ?? 0
                next = try Int64.fetchOne(
                    db, sql: "SELECT MIN(started_at) FROM usage_events WHERE started_at >= ?", arguments: [dayEnd])
            }
            return rolledUp
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.databaseFailed, "usage query failed", underlying: error)
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.databaseFailed, "usage write failed", underlying: error)
        }
    }
}

/// A group's identity while merging segment results.
package struct StatsGroupKey: Hashable, Comparable, Sendable {
    package var bucketStart: Int64?
    package var values: [String?]

    package init(bucketStart: Int64?, values: [String?]) {
        self.bucketStart = bucketStart
        self.values = values
    }

    package static func < (lhs: StatsGroupKey, rhs: StatsGroupKey) -> Bool {
        if lhs.bucketStart != rhs.bucketStart { return (lhs.bucketStart ?? .min) < (rhs.bucketStart ?? .min) }
        for (left, right) in zip(lhs.values, rhs.values) where left != right {
            return (left ?? "") < (right ?? "") || (left == nil && right != nil)
        }
        return false
    }
}

extension UsageStore {
    /// Distinct users (non-null `user`) per time bucket and/or group: SPEC §13 `active_users`, exact
    /// for any range — a count over the whole range, never a sum of per-bucket counts. Rollup rows
    /// keep each user per hour or day, so the rows of the plan's segments (with no subtracted edge:
    /// a distinct count cannot be taken back) hold every user active in the range.
    ///
    /// `rebucket` maps a `granularity` bucket's start to the bucket it counts in (weeks, months,
    /// local days): the users are then counted per final bucket, from daily rows and a few hourly
    /// ones when the range is whole hours (`activeUsersByDay`).
    ///
    /// Nil when no rollup keeps users together with what the query filters or groups by
    /// (department, outcome, status, endpoint, session, tags): the count would scan every raw event
    /// of the range, so it is not taken.
    package func activeUsers(
        filter: StatsFilter, groupBy: [StatsDimension] = [], granularity: RollupGranularity? = nil,
        rebucket: BucketMap? = nil
    ) async throws -> [StatsGroupKey: Int64]? {
        guard let detail = RollupDetail.coarsest(answering: filter, groupBy: groupBy + [.user]) else { return nil }
        let hour = RollupGranularity.hour.milliseconds
        if let rebucket, let from = filter.from, let to = filter.to, from < to, from % hour == 0, to % hour == 0 {
            return try await activeUsersByDay(filter: filter, groupBy: groupBy, detail: detail, from: from, to: to, buckets: rebucket)
        }
        let plan = StatsQueryPlan(
            from: filter.from, to: filter.to, rawOnly: false, allowDaily: granularity != .hour, detail: detail,
            allowSubtraction: false)
        let hasBucket = granularity != nil
        let groupColumnCount = groupBy.count + (hasBucket ? 1 : 0)
        // Hourly buckets never span two segments (edges are the partial hours the others leave
        // out), nor does anything when there is one segment: each segment counts its own users,
        // in its table's key order, without a sort over the union.
        if rebucket == nil, granularity == .hour || plan.segments.count == 1 {
            let queries = try plan.segments.map { try $0.sql(filter: filter, groupBy: groupBy, granularity: granularity, selecting: .userCounts) }
            return try await read { db in
                var counts: [StatsGroupKey: Int64] = [:]
                for query in queries {
                    let rows = try Row.fetchCursor(db, sql: query.sql, arguments: query.arguments)
                    while let row = try rows.next() {
                        let bucket: Int64? = hasBucket ? row[0] : nil
                        let values = ((hasBucket ? 1 : 0)..<groupColumnCount).map { String.fromDatabaseValue(row[$0]) }
                        counts[StatsGroupKey(bucketStart: bucket, values: values), default: 0] += row[groupColumnCount]
                    }
                }
                return counts
            }
        }
        var arguments = StatementArguments()
        var parts: [String] = []
        for segment in plan.segments {
            let part = try segment.sql(filter: filter, groupBy: groupBy, granularity: granularity, selecting: .users)
            parts.append(part.sql)
            arguments += part.arguments
        }
        let names = (0..<groupColumnCount).map { "g\($0)" }
        let columns = (names + ["u"]).joined(separator: ", ")
        // Segments cover disjoint times, but one bucket or group may span several (a day's whole
        // hours and its edge): every row goes into one UNION ALL and distinct users are counted
        // over all of it, once (a single sort).
        let union = parts.isEmpty ? "SELECT \((names + ["u"]).map { _ in "NULL" }.joined(separator: ", ")) WHERE 0" : parts.joined(separator: " UNION ALL ")
        // With a `rebucket` map, each row's bucket is mapped to the one it counts in, in SQL.
        var groups = names
        if let rebucket, hasBucket { groups[0] = rebucket.sqlExpression(of: "g0") }
        let grouping = names.isEmpty ? "" : " GROUP BY " + (1...names.count).map(String.init).joined(separator: ", ")
        let sql = "WITH t(\(columns)) AS (\(union)) SELECT \((groups + ["COUNT(DISTINCT u)"]).joined(separator: ", ")) FROM t\(grouping)"
        let queryArguments = arguments
        return try await read { db in
            var counts: [StatsGroupKey: Int64] = [:]
            let rows = try Row.fetchCursor(db, sql: sql, arguments: queryArguments)
            while let row = try rows.next() {
                let bucket: Int64? = hasBucket ? row[0] : nil
                let values = ((hasBucket ? 1 : 0)..<groupColumnCount).map { String.fromDatabaseValue(row[$0]) }
                counts[StatsGroupKey(bucketStart: bucket, values: values)] = row[groupColumnCount]
            }
            return counts
        }
    }
}
