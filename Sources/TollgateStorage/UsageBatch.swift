import GRDB
import TollgateCore

/// Work that must commit in the same transaction as a batch of usage events, such as budget
/// settlement (SPEC §5: an event, its rollups and its settlement are written together). It gets
/// only the events that were newly inserted, never a duplicate request id. Throwing rolls the whole
/// batch back and the writer retries it at the next tick, so throw for database failures only, never
/// because of one event's content: such a batch would be retried forever.
package typealias UsageBatchHook = @Sendable (_ db: Database, _ insertedEvents: [UsageEvent]) throws -> Void

/// What committing one batch did.
package struct UsageBatchResult: Sendable, Equatable {
    /// Events stored for the first time.
    package var inserted: Int
    /// Events whose request id was already stored; they changed nothing.
    package var duplicates: Int
}

/// Stores a batch of events and their rollups; the caller runs it inside one transaction.
enum UsageBatch {
    static func write(_ events: some Collection<UsageEvent>, hook: UsageBatchHook?, to db: Database) throws -> UsageBatchResult {
        var insert = RawStatement(try db.cachedStatement(sql: UsageSQL.insertEvent))
        var rollups = RollupAccumulator()
        var insertedEvents: [UsageEvent] = []
        var inserted = 0
        for event in events {
            try event.bindInsert(to: &insert)
            // 0 when OR IGNORE skipped the row: a request id already stored is never rolled up again.
            guard try insert.execute(db) > 0 else { continue }
            inserted += 1
            rollups.add(event)
            if hook != nil { insertedEvents.append(event) }
        }
        try rollups.write(to: db)
        if let hook { try hook(db, insertedEvents) }
        return UsageBatchResult(inserted: inserted, duplicates: events.count - inserted)
    }
}
