import GRDB
import Logging
import Synchronization
import TollgateCore

/// Which tags are rolled up (SPEC §13 `analytics.rollup_tags`) and how many distinct values each
/// keeps per org and UTC day.
package struct TagRollupSettings: Sendable, Equatable {
    /// `analytics.rollup_tag_values`: distinct values per tag, org and UTC day that get rows of
    /// their own; later values of that day share one overflow row (`TagRollups.overflowLabel`).
    package static let defaultMaxValues = 1000

    /// Tag names, lower-cased (as `X-Tollgate-Tag-<Name>` stores them).
    package var names: [String]
    package var maxValues: Int

    package init(names: [String] = [], maxValues: Int = defaultMaxValues) {
        self.names = names
        self.maxValues = maxValues
    }
}

/// What a tag rollup row counts (the `kind` column).
enum TagRollupKind: Int64 {
    /// The org's requests that did not carry the tag (value '').
    case absent = 0
    /// The requests that carried the tag with this value.
    case value = 1
    /// The requests whose value came after the day's bound was reached (value '').
    case overflow = 2
}

/// A tag rollup row's key (the table's primary key, in its order).
struct TagRollupKey: Hashable {
    var tag: String
    var bucketStart: Int64
    var org: String
    var kind: TagRollupKind
    var value: String
}

/// A tag rollup table (`v11-rollup-tags`): hourly or daily, per org or across orgs.
///
/// The across-orgs tables hold, with org '', the sum of every org's rows of the same tag, bucket,
/// kind and value: a breakdown of a many-valued tag over all orgs reads one row per value and
/// bucket instead of one per org as well.
struct TagRollupTable: Hashable, Sendable {
    var granularity: RollupGranularity
    var acrossOrgs: Bool

    static let hourly = TagRollupTable(granularity: .hour, acrossOrgs: false)
    static let daily = TagRollupTable(granularity: .day, acrossOrgs: false)
    static let all = [hourly, daily, TagRollupTable(granularity: .hour, acrossOrgs: true), TagRollupTable(granularity: .day, acrossOrgs: true)]

    /// The org column of the across-orgs tables.
    static let anyOrg = ""

    var name: String {
        (granularity == .hour ? "rollup_hourly_tag" : "rollup_daily_tag") + (acrossOrgs ? "_all" : "")
    }

    static let keyColumns = ["tag", "bucket_start", "org", "kind", "value"]

    /// Adds one batch's totals to a row, creating it if needed.
    var upsertSQL: String { Self.upserts[self]! }

    private static let upserts = Dictionary(
        uniqueKeysWithValues: all.map { ($0, UsageSQL.upsertRollup(into: $0.name, keyColumns: keyColumns)) })
}

/// Rollups of configured tags (SPEC §13): a tag's spend by value beyond raw-event retention.
///
/// Every committed event adds, for each configured tag, to one row of its hour and org: the
/// tag's value, "without the tag", or — once that org's day already has `maxValues` distinct
/// values — the day's overflow row. So a tag's rows always add up to the org's totals, and a
/// value keeps a row of its own for the whole day once it has one. The daily table is the sum of
/// the hourly one, as for every rollup, and each across-orgs table the sum of its per-org one.
///
/// Queries (`StatsQueryPlan`) read them when a query names exactly one configured tag, as a
/// filter or a grouping, and otherwise only the org: a breakdown by the tag shows overflowed
/// values as one group named `overflowLabel`, and a filter on a value reads raw events whenever the
/// range holds overflow rows (its requests may be in them).
package enum TagRollups {
    /// The group value of requests whose tag value came past the day's bound.
    package static let overflowLabel = "(other)"

    /// A tag rollup row's value as a group: NULL for requests without the tag, as raw events read.
    static let groupValueExpression = "CASE kind WHEN 1 THEN value WHEN 2 THEN '\(overflowLabel)' END"

    /// The configured tags, each with its bound.
    static func configured(_ db: Database) throws -> [(name: String, maxValues: Int)] {
        try Row.fetchAll(db, sql: "SELECT name, max_values FROM rollup_tags ORDER BY name").map { ($0[0], $0[1]) }
    }

    /// The one tag a query names, when the tag rollups could answer it: no dimension but the org
    /// filtered or grouped by, no request id, and one tag name among the filters and groups.
    static func tag(answering filter: StatsFilter, groupBy: [StatsDimension]) -> String? {
        guard filter.requestID == nil, filter.namedValues.allSatisfy({ $0.dimension == .org }) else { return nil }
        var names = Set(filter.tags.keys)
        for dimension in groupBy {
            switch dimension {
            case .org: continue
            case .tag(let name): names.insert(name)
            default: return nil
            }
        }
        return names.count == 1 ? names.first : nil
    }

    /// Whether `tag` is rolled up, and whether its rows in `[from, to)` (whole days around it, for
    /// the filter's org) include an overflow row.
    static func coverage(of tag: String, filter: StatsFilter, _ db: Database) throws -> (rolled: Bool, overflow: Bool) {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM rollup_tags WHERE name = ?", arguments: [tag]) == true else {
            return (false, false)
        }
        var sql = "SELECT 1 FROM \(TagRollupTable.daily.name) WHERE tag = ? AND kind = \(TagRollupKind.overflow.rawValue)"
        var arguments: StatementArguments = [tag]
        if let from = filter.from {
            sql += " AND bucket_start >= ?"
            arguments += [RollupGranularity.day.bucketStart(from)]
        }
        if let to = filter.to {
            sql += " AND bucket_start < ?"
            arguments += [to]
        }
        if let org = filter.org {
            sql += " AND org = ?"
            arguments += [org]
        }
        return (true, try Bool.fetchOne(db, sql: sql + " LIMIT 1", arguments: arguments) == true)
    }

    /// Makes the database roll up exactly `settings.names`, and updates the bound. Call before the
    /// usage writer starts.
    ///
    /// A tag no longer named is no longer written nor read (its queries read raw events); its rows
    /// stay until retention drops them, so a start with a config that forgot a tag destroys
    /// nothing. A newly named tag, or one named again, is rolled up from every usage event still
    /// kept (a day per transaction, progress logged), replacing its rows of those days; older rows
    /// of it are kept.
    package static func configure(
        _ settings: TagRollupSettings, in database: TollgateDatabase, logger: Logger
    ) async throws {
        let pool = database.pool
        let current = try await pool.read { db in try configured(db) }
        let wanted = Set(settings.names)
        for (name, _) in current where !wanted.contains(name) {
            try await pool.write { db in try db.execute(sql: "DELETE FROM rollup_tags WHERE name = ?", arguments: [name]) }
            logger.notice(
                "tag no longer rolled up: its queries read raw events; its rollup rows are kept until retention drops them",
                metadata: ["tag": "\(name)"])
        }
        let known = Set(current.map(\.name))
        for name in settings.names.sorted() where !known.contains(name) {
            try await backfill(name, maxValues: settings.maxValues, pool: pool, logger: logger)
        }
        try await pool.write { db in
            try db.execute(sql: "UPDATE rollup_tags SET max_values = ? WHERE max_values <> ?", arguments: [settings.maxValues, settings.maxValues])
        }
    }

    /// Rolls `name` up from the kept events, one UTC day per transaction, then records it as
    /// configured (so a crash part-way starts over at the next start).
    private static func backfill(_ name: String, maxValues: Int, pool: DatabasePool, logger: Logger) async throws {
        let day = RollupGranularity.day.milliseconds
        var next = try await pool.write { db -> Int64? in
            let first = try Int64.fetchOne(db, sql: "SELECT MIN(started_at) FROM usage_events")
            for table in TagRollupTable.all {
                try db.execute(
                    sql: "DELETE FROM \(table.name) WHERE tag = ? AND bucket_start >= ?",
                    arguments: [name, first.map { RollupGranularity.day.bucketStart($0) } ?? .max])
            }
            return first
        }
        var days = 0
        let started = ContinuousClock.now
        while let start = next {
            let dayStart = RollupGranularity.day.bucketStart(start)
            next = try await pool.write { db in
                try rebuild(tag: name, maxValues: maxValues, dayStart: dayStart, db)
                return try Int64.fetchOne(
                    db, sql: "SELECT MIN(started_at) FROM usage_events WHERE started_at >= ?", arguments: [dayStart + day])
            }
            days += 1
            // About 1.6 s a day at 330k events a day: a line every 5 days shows the start is moving.
            if days % 5 == 0 { logger.info("rolling up tag from kept events", metadata: ["tag": "\(name)", "days_done": "\(days)"]) }
        }
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO rollup_tags (name, max_values) VALUES (?, ?)", arguments: [name, maxValues])
        }
        logger.notice(
            "tag rolled up from kept events",
            metadata: ["tag": "\(name)", "days": "\(days)", "seconds": "\((ContinuousClock.now - started).components.seconds)"])
    }

    /// Fills one UTC day of `tag`'s rollups (all four tables) from the day's events; its rows must be absent. Values
    /// past the bound are those that first appeared latest in the day (ties by value), which is
    /// the writer's rule as closely as stored events tell it.
    static func rebuild(tag: String, maxValues: Int, dayStart: Int64, _ db: Database) throws {
        let dayEnd = dayStart + RollupGranularity.day.milliseconds
        let columns = (TagRollupTable.keyColumns + UsageSQL.rollupCounterColumns + ["latency_hist"]).joined(separator: ", ")
        let path = try StatsQueryPlan.Segment.quotedTagPath(tag)
        try db.execute(
            sql: """
                INSERT INTO \(TagRollupTable.hourly.name) (\(columns))
                SELECT ?, \(UsageSQL.bucketStart("started_at", size: RollupGranularity.hour.milliseconds)), org,
                    json_extract(tags, \(path)) IS NOT NULL, COALESCE(json_extract(tags, \(path)), ''),
                    \(UsageSQL.rawSummaryColumns)
                FROM usage_events WHERE started_at >= ? AND started_at < ?
                GROUP BY 2, 3, 4, 5
                """,
            arguments: [tag, dayStart, dayEnd])
        let crowded = try String.fetchAll(
            db,
            sql: """
                SELECT org FROM \(TagRollupTable.hourly.name)
                WHERE tag = ? AND bucket_start >= ? AND bucket_start < ? AND kind = 1
                GROUP BY org HAVING COUNT(DISTINCT value) > ?
                """,
            arguments: [tag, dayStart, dayEnd, maxValues])
        let range = "tag = ?1 AND org = ?2 AND bucket_start >= ?3 AND bucket_start < ?4"
        let pastBound = """
            value IN (SELECT value FROM \(TagRollupTable.hourly.name) WHERE \(range) AND kind = 1
                GROUP BY value ORDER BY MIN(bucket_start), value LIMIT -1 OFFSET ?5)
            """
        for org in crowded {
            let arguments: StatementArguments = [tag, org, dayStart, dayEnd, maxValues]
            try db.execute(
                sql: """
                    INSERT INTO \(TagRollupTable.hourly.name) (\(columns))
                    SELECT tag, bucket_start, org, \(TagRollupKind.overflow.rawValue), '', \(UsageSQL.rollupSummaryColumns)
                    FROM \(TagRollupTable.hourly.name) WHERE \(range) AND kind = 1 AND \(pastBound)
                    GROUP BY bucket_start
                    """,
                arguments: arguments)
            try db.execute(
                sql: "DELETE FROM \(TagRollupTable.hourly.name) WHERE \(range) AND kind = 1 AND \(pastBound)", arguments: arguments)
        }
        try db.execute(
            sql: """
                INSERT INTO \(TagRollupTable.daily.name) (\(columns))
                SELECT tag, ?2, org, kind, value, \(UsageSQL.rollupSummaryColumns)
                FROM \(TagRollupTable.hourly.name) WHERE tag = ?1 AND bucket_start >= ?2 AND bucket_start < ?3
                GROUP BY org, kind, value
                """,
            arguments: [tag, dayStart, dayEnd])
        for table in [TagRollupTable.hourly, .daily] {
            try db.execute(
                sql: """
                    INSERT INTO \(TagRollupTable(granularity: table.granularity, acrossOrgs: true).name) (\(columns))
                    SELECT tag, bucket_start, '\(TagRollupTable.anyOrg)', kind, value, \(UsageSQL.rollupSummaryColumns)
                    FROM \(table.name) WHERE tag = ? AND bucket_start >= ? AND bucket_start < ?
                    GROUP BY bucket_start, kind, value
                    """,
                arguments: [tag, dayStart, dayEnd])
        }
    }
}

/// The values each (tag, org, UTC day) already has rows for, so the writer tells a value within
/// the bound from one past it without a query per event. A day is loaded from the daily table on
/// first use; only the writer's queue calls it (the lock makes it `Sendable`).
///
/// After a failed commit it may hold values that were never stored; they still count against the
/// bound, so the bound holds, and a value it holds keeps its own row for the rest of the day.
final class TagValueRegistry: Sendable {
    private struct Day: Hashable {
        var tag: String
        var org: String
        var dayStart: Int64
    }

    private let known = Mutex<[Day: Set<String>]>([:])

    func kind(of value: String, tag: String, org: String, dayStart: Int64, maxValues: Int, _ db: Database) throws -> TagRollupKind {
        try known.withLock { known in
            let day = Day(tag: tag, org: org, dayStart: dayStart)
            if known[day] == nil {
                // Days older than yesterday are rarely written again: forget them when many are held.
                if known.count >= 4096 { known = known.filter { $0.key.dayStart >= dayStart - RollupGranularity.day.milliseconds } }
                known[day] = Set(
                    try String.fetchAll(
                        db,
                        sql: "SELECT value FROM \(TagRollupTable.daily.name) WHERE tag = ? AND bucket_start = ? AND org = ? AND kind = 1",
                        arguments: [tag, dayStart, org]))
            }
            if known[day]!.contains(value) { return .value }
            guard known[day]!.count < maxValues else { return .overflow }
            known[day]!.insert(value)
            return .value
        }
    }
}
