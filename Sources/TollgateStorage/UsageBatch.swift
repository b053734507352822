import GRDB
import TollgateCore

/// What committing one batch did.
package struct UsageBatchResult: Sendable, Equatable {
    /// Events stored for the first time.
    package var inserted: Int
    /// Events whose request id was already stored; they changed nothing.
    package var duplicates: Int
}

/// Stores a batch of events and their rollups; the caller runs it inside one transaction.
enum UsageBatch {
    /// `tagValues` remembers the configured tags' values across batches (see `TagValueRegistry`).
    static func write(
        _ events: some Collection<UsageEvent>, to db: Database, tagValues: TagValueRegistry = TagValueRegistry()
    ) throws -> UsageBatchResult {
        var insert = RawStatement(try db.cachedStatement(sql: UsageSQL.insertEvent))
        var rollups = RollupAccumulator()
        let tags = try TagRollups.configured(db)
        var inserted = 0
        func store(_ event: borrowing UsageEvent) throws {
            try event.bindInsert(to: &insert)
            // 0 when OR IGNORE skipped the row: a request id already stored is never rolled up again.
            guard try insert.execute(db) > 0 else { return }
            inserted += 1
            rollups.add(event)
            if !tags.isEmpty { try rollups.add(event, tags: tags, values: tagValues, db) }
        }
        // Read in place: a `for` loop copies each event, retaining and releasing its strings.
        let done: Void? = try events.withContiguousStorageIfAvailable { buffer in
            for index in buffer.indices { try store(buffer[index]) }
        }
        if done == nil { for event in events { try store(event) } }
        try rollups.write(to: db)
        return UsageBatchResult(inserted: inserted, duplicates: events.count - inserted)
    }
}
