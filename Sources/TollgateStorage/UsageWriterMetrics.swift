/// The usage writer's counters, for `/metrics` and logs.
package struct UsageWriterMetrics: Sendable, Equatable {
    /// Events not yet committed: waiting in memory, or in a commit under way.
    package var pending = 0
    /// The part of `pending` in a commit under way.
    package var inFlight = 0
    /// Commits that failed in a row (0: the last one succeeded); their events wait for a retry.
    package var consecutiveFailures = 0
    /// Why the last failed commit failed, while commits are failing.
    package var lastError: String?
    /// Events accepted by `record`.
    package var recorded: UInt64 = 0
    /// Rows inserted into `usage_events`.
    package var written: UInt64 = 0
    /// Events ignored because their request id was already stored.
    package var duplicates: UInt64 = 0
    /// Events dropped because `maxPending` were already waiting.
    package var dropped: UInt64 = 0
    /// Batches committed.
    package var batches: UInt64 = 0
    /// Batch commits that failed (their events were kept and retried).
    package var failedBatches: UInt64 = 0
    /// Events in the last committed batch.
    package var lastBatchSize = 0
    /// How long the oldest event of the last batch waited, from `record` to its commit.
    package var lastFlushLag: Duration = .zero
    /// How long the last batch's transaction took.
    package var lastCommitDuration: Duration = .zero

    package init() {}
}
