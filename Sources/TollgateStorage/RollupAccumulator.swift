import GRDB
import TollgateCore

/// One batch's rollup changes, aggregated in memory so each rollup row is written once per batch.
///
/// Events go into hourly totals keyed by every rollup dimension; each table's totals are folded
/// from its `RollupTable.source` (or from those) at write time, so an event is hashed once. A batch of 512 events touches at
/// most a few hundred full-detail rows and far fewer of every coarser detail, so the coarser tables
/// add few upserts to a batch.
///
/// Configured tags (`TagRollups`) go into hourly tag rows, one per event and tag (and org, and
/// across orgs), folded into daily ones the same way.
struct RollupAccumulator {
    private(set) var hourly: [RollupKey: StatsSummary] = [:]
    private var tagged: [TagRollupKey: StatsSummary] = [:]

    var isEmpty: Bool { hourly.isEmpty }

    mutating func add(_ event: UsageEvent) {
        let key = RollupKey(bucketStart: RollupGranularity.hour.bucketStart(event.startedAtMs), event: event)
        hourly[key, default: StatsSummary()].add(event)
    }

    /// Counts `event` in one row of each configured tag: its value's, the overflow row once its
    /// org's day has `maxValues` other values (`values` knows), or the row of requests without it.
    mutating func add(
        _ event: UsageEvent, tags: [(name: String, maxValues: Int)], values: TagValueRegistry, _ db: Database
    ) throws {
        let hour = RollupGranularity.hour.bucketStart(event.startedAtMs)
        for tag in tags {
            var key = TagRollupKey(tag: tag.name, bucketStart: hour, org: event.org, kind: .absent, value: "")
            if let value = event.tags[tag.name] {
                key.kind = try values.kind(
                    of: value, tag: tag.name, org: event.org, dayStart: RollupGranularity.day.bucketStart(hour),
                    maxValues: tag.maxValues, db)
                if key.kind == .value { key.value = value }
            }
            tagged[key, default: StatsSummary()].add(event)
        }
    }

    /// Adds the totals to every rollup table; call inside the batch's transaction.
    func write(to db: Database) throws {
        if hourly.isEmpty { return }
        var totals: [RollupTable: [RollupKey: StatsSummary]] = [:]
        for table in RollupTable.all {
            let rows = Self.fold(table.source.map { totals[$0]! } ?? hourly, to: table)
            totals[table] = rows
            try Self.upsert(rows, into: table, db)
        }
        if tagged.isEmpty { return }
        for table in TagRollupTable.all {
            // Hourly per org as accumulated; every other table folded from it (day, all orgs).
            var rows: [TagRollupKey: StatsSummary] = [:]
            for (key, totals) in tagged {
                var folded = key
                folded.bucketStart = table.granularity.bucketStart(key.bucketStart)
                if table.acrossOrgs { folded.org = TagRollupTable.anyOrg }
                rows[folded, default: StatsSummary()].merge(totals)
            }
            var statement = RawStatement(try db.cachedStatement(sql: table.upsertSQL))
            for (key, totals) in rows {
                try totals.bindUpsert(key: key, to: &statement)
                _ = try statement.execute(db)
            }
        }
    }

    private static func fold(_ rows: [RollupKey: StatsSummary], to table: RollupTable) -> [RollupKey: StatsSummary] {
        var folded: [RollupKey: StatsSummary] = [:]
        for (key, totals) in rows {
            folded[key.rolled(to: table.granularity, table.detail), default: StatsSummary()].merge(totals)
        }
        return folded
    }

    private static func upsert(_ rows: [RollupKey: StatsSummary], into table: RollupTable, _ db: Database) throws {
        var statement = RawStatement(try db.cachedStatement(sql: table.upsertSQL))
        for (key, totals) in rows {
            try totals.bindUpsert(key: key, detail: table.detail, to: &statement)
            _ = try statement.execute(db)
        }
    }
}
