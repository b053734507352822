import GRDB
import TollgateCore

/// One batch's rollup changes, aggregated in memory so each rollup row is written once per batch.
///
/// Events go into hourly totals keyed by every rollup dimension; each table's totals are folded
/// from its `RollupTable.source` (or from those) at write time, so an event is hashed once. A batch of 512 events touches at
/// most a few hundred full-detail rows and far fewer of every coarser detail, so the coarser tables
/// add few upserts to a batch.
struct RollupAccumulator {
    private(set) var hourly: [RollupKey: StatsSummary] = [:]

    var isEmpty: Bool { hourly.isEmpty }

    mutating func add(_ event: UsageEvent) {
        let key = RollupKey(bucketStart: RollupGranularity.hour.bucketStart(event.startedAtMs), event: event)
        hourly[key, default: StatsSummary()].add(event)
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
