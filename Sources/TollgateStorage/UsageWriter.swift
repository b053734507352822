import GRDB
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore

/// Takes usage events from the request path and commits them to SQLite in batches, off that path.
///
/// `record` appends to an in-memory queue under a lock and returns; it never touches SQLite. The
/// service's `run` commits what is pending every `flushInterval`, or as soon as `batchSize` events
/// wait, one transaction per batch: the events (`INSERT OR IGNORE`, so a request id is stored once)
/// and the rollups of the rows actually inserted. Budget spend is read from those rollups, so it
/// settles in the same transaction (SPEC §5). A failed
/// commit puts its events back at the head of the queue and is retried at the next tick.
///
/// On graceful shutdown or cancellation `run` commits everything still pending before it returns,
/// so in a `ServiceGroup` list the writer goes before the HTTP server: it is stopped after the
/// server has drained its requests. Commits run on GRDB's writer queue through `asyncWrite`, which
/// does not observe task cancellation, so a batch once started always commits or fails whole.
package final class UsageWriter: Service, UsageRecorder {
    /// How the writer batches.
    package struct Configuration: Sendable {
        /// Longest time an event waits in memory before a commit starts (SPEC `TOLLGATE_FLUSH_MS`).
        package var flushInterval: Duration
        /// A commit starts as soon as this many events are pending.
        package var batchSize: Int
        /// Most events in one transaction; more pending are committed in several.
        package var maxTransactionSize: Int
        /// Most events held in memory; beyond it `record` drops events (counted and logged), so a
        /// database that stopped taking writes cannot exhaust memory.
        package var maxPending: Int

        package init(
            flushInterval: Duration = .milliseconds(100), batchSize: Int = 512, maxTransactionSize: Int = 8192,
            maxPending: Int = 1_000_000
        ) {
            self.flushInterval = flushInterval
            self.batchSize = max(batchSize, 1)
            self.maxTransactionSize = max(maxTransactionSize, 1)
            self.maxPending = max(maxPending, 1)
        }

        /// Defaults, with `flushInterval` from `TOLLGATE_FLUSH_MS` when it is a positive integer.
        package init(environment: [String: String]) {
            self.init()
            if let text = environment["TOLLGATE_FLUSH_MS"], let milliseconds = Int(text), milliseconds > 0 {
                flushInterval = .milliseconds(milliseconds)
            }
        }
    }

    private struct Waiter {
        var target: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Batch {
        var events: [UsageEvent]
        var pendingSince: ContinuousClock.Instant
    }

    private struct State {
        var pending: [UsageEvent] = []
        /// When the oldest pending event was recorded.
        var pendingSince: ContinuousClock.Instant?
        /// Events accepted by `record`, ever.
        var recorded: UInt64 = 0
        /// Events whose batch committed (stored or found duplicate), ever; batches commit in
        /// recording order, so every event numbered up to this is in the database.
        var processed: UInt64 = 0
        /// Whether a drain is running; only one at a time, so batches commit in order.
        var draining = false
        var wakeRequested = false
        var running = false
        var consecutiveFailures = 0
        /// Events taken by the running drain and not yet committed.
        var inFlight = 0
        var lastError: String?
        var waiters: [Waiter] = []
        var metrics = UsageWriterMetrics()

        /// Removes and returns the waiters whose events have all committed.
        mutating func takeSatisfiedWaiters() -> [Waiter] {
            guard waiters.contains(where: { $0.target <= processed }) else { return [] }
            let ready = waiters.filter { $0.target <= processed }
            waiters.removeAll { $0.target <= processed }
            return ready
        }
    }

    private let pool: DatabasePool
    private let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())
    private let tagValues = TagValueRegistry()
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    /// A writer into `database`.
    package init(
        database: TollgateDatabase, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "tollgate.usage-writer")
    ) {
        self.pool = database.pool
        self.configuration = configuration
        self.logger = logger
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues an event and returns at once; never waits on SQLite.
    package func record(_ event: UsageEvent) {
        let (wake, dropped) = state.withLock { state -> (Bool, UInt64?) in
            guard state.pending.count < configuration.maxPending else {
                state.metrics.dropped += 1
                return (false, state.metrics.dropped)
            }
            if state.pending.isEmpty { state.pendingSince = .now }
            state.pending.append(event)
            state.recorded += 1
            guard state.pending.count >= configuration.batchSize, !state.wakeRequested else { return (false, nil) }
            state.wakeRequested = true
            return (true, nil)
        }
        if wake { wakeupContinuation.yield() }
        if let dropped, dropped == 1 || dropped % 10_000 == 0 {
            logger.error(
                "usage events dropped: the writer is \(configuration.maxPending) events behind",
                metadata: ["dropped_total": "\(dropped)"])
        }
    }

    /// A snapshot of the writer's counters.
    package var metrics: UsageWriterMetrics {
        state.withLock { state in
            var metrics = state.metrics
            metrics.pending = state.pending.count + state.inFlight
            metrics.inFlight = state.inFlight
            metrics.recorded = state.recorded
            metrics.consecutiveFailures = state.consecutiveFailures
            metrics.lastError = state.lastError
            return metrics
        }
    }

    /// Commits every event recorded before the call; throws if a commit of them fails.
    ///
    /// Works whether or not `run` is running.
    package func flush() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startDrain = state.withLock { state -> Bool? in
                guard state.processed < state.recorded else { return nil }
                state.waiters.append(Waiter(target: state.recorded, continuation: continuation))
                return !state.draining
            }
            switch startDrain {
            case nil: continuation.resume()
            case true?: Task { await self.drain() }
            case false?: break  // the running drain takes every pending event and resumes the waiter
            }
        }
    }

    /// Commits batches until the service shuts down, then commits what is left and returns.
    package func run() async throws {
        let alreadyRunning = state.withLock { state in
            defer { state.running = true }
            return state.running
        }
        precondition(!alreadyRunning, "UsageWriter.run() called twice")
        let interval = configuration.flushInterval
        let ticks = wakeupContinuation
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        ticks.yield()
                    }
                }
                // Ends on graceful shutdown (the stream finishes) or cancellation.
                for await _ in wakeups { await drain() }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            ticks.finish()
        }
        do {
            try await flush()
        } catch {
            logger.critical(
                "usage writer stopped with events it could not write; they are lost",
                metadata: ["events_lost": "\(metrics.pending)", "error": "\(error)"])
            throw error
        }
        logger.debug("usage writer stopped", metadata: ["written_total": "\(metrics.written)"])
    }

    /// Commits what is pending, a transaction at a time. Returns at once when another drain is
    /// running: that one goes on while a `flush()` caller waits.
    ///
    /// The first take is everything pending (a tick or a full batch started the drain). After a
    /// commit the drain goes on only for a full batch, a backlog, or a `flush()` caller: events that
    /// trickled in during the commit wait for the next tick or full batch instead. Chasing them
    /// made a commit of a few dozen events every few milliseconds under steady load, and each
    /// commit rewrites the same index and rollup pages to the WAL, so most of the writer's work
    /// was per commit rather than per event.
    private func drain() async {
        let started = state.withLock { state in
            defer { state.draining = true }
            return !state.draining
        }
        guard started else { return }
        var onlyFullBatches = false
        while let taken = takePending(onlyFullBatches: onlyFullBatches) {
            onlyFullBatches = true
            // Everything pending is taken at once (an O(1) swap, whatever the backlog) and committed
            // in transactions of at most `maxTransactionSize`, in order.
            var offset = 0
            while offset < taken.events.count {
                let end = min(offset + configuration.maxTransactionSize, taken.events.count)
                let batch = taken.events[offset..<end]
                let commitStarted = ContinuousClock.now
                do {
                    let counts = try await commit(batch)
                    let finished = ContinuousClock.now
                    let (ready, recovered) = state.withLock { state in
                        state.processed += UInt64(batch.count)
                        state.inFlight -= batch.count
                        state.lastError = nil
                        state.metrics.written += UInt64(counts.inserted)
                        state.metrics.duplicates += UInt64(counts.duplicates)
                        state.metrics.batches += 1
                        state.metrics.lastBatchSize = batch.count
                        state.metrics.lastFlushLag = finished - taken.pendingSince
                        state.metrics.lastCommitDuration = finished - commitStarted
                        defer { state.consecutiveFailures = 0 }
                        return (state.takeSatisfiedWaiters(), state.consecutiveFailures)
                    }
                    if recovered > 0 { logger.notice("usage writer recovered", metadata: ["failed_attempts": "\(recovered)"]) }
                    for waiter in ready { waiter.continuation.resume() }
                } catch {
                    fail(keeping: taken.events[offset...], pendingSince: taken.pendingSince, error: error)
                    return
                }
                offset = end
            }
        }
    }

    /// Puts the events of a failed commit back at the head of the queue, ends the drain and fails
    /// the `flush()` calls waiting; the next tick retries.
    private func fail(keeping events: ArraySlice<UsageEvent>, pendingSince: ContinuousClock.Instant, error: any Error) {
        let (waiters, failures) = state.withLock { state in
            state.pending.insert(contentsOf: events, at: 0)
            state.pendingSince = pendingSince
            state.inFlight = 0
            state.lastError = "\(error)"
            state.draining = false
            state.consecutiveFailures += 1
            state.metrics.failedBatches += 1
            defer { state.waiters = [] }
            return (state.waiters, state.consecutiveFailures)
        }
        if failures.nonzeroBitCount == 1 {  // 1st, 2nd, 4th, 8th… attempt: no log flood
            logger.error(
                "usage batch commit failed; its events are kept and retried",
                metadata: ["events": "\(events.count)", "attempt": "\(failures)", "error": "\(error)"])
        }
        let failure = StorageError(.databaseFailed, "usage batch commit failed", underlying: error)
        for waiter in waiters { waiter.continuation.resume(throwing: failure) }
    }

    /// Takes every pending event, or ends the drain when there is none; with `onlyFullBatches`, also
    /// when fewer than `batchSize` wait and no `flush()` caller waits for them.
    private func takePending(onlyFullBatches: Bool) -> Batch? {
        state.withLock { state -> Batch? in
            let worthACommit =
                !onlyFullBatches || state.pending.count >= configuration.batchSize
                || state.waiters.contains { $0.target > state.processed }
            guard !state.pending.isEmpty, worthACommit else {
                state.draining = false
                return nil
            }
            let batch = Batch(events: state.pending, pendingSince: state.pendingSince ?? .now)
            state.inFlight = batch.events.count
            state.pending = []
            state.pending.reserveCapacity(configuration.batchSize)
            state.pendingSince = nil
            state.wakeRequested = false
            return batch
        }
    }

    /// Commits one batch in one transaction on GRDB's writer queue.
    private func commit(_ events: ArraySlice<UsageEvent>) async throws -> UsageBatchResult {
        let tagValues = self.tagValues
        return try await withCheckedThrowingContinuation { continuation in
            pool.asyncWrite(
                { db in try UsageBatch.write(events, to: db, tagValues: tagValues) },
                completion: { _, result in continuation.resume(with: result) })
        }
    }
}
