import Foundation
import Prometheus
import Synchronization
import TollgateCore
import TollgateStorage

/// Renders `/metrics`: the counters the request path keeps (`MetricsRecorder`) plus gauges of
/// Tollgate's state, read at scrape time so nothing on the request path pays for them.
///
/// The state comes in as closures (the usage writer's counters, the budget ledger, the response
/// cache's totals), so tests feed their own. Scrapes are serialized: the writer's running totals
/// become counters by adding what changed since the previous scrape.
final class MetricsExporter: Sendable {
    /// Where the scrape-time figures come from.
    struct Sources: Sendable {
        var writer: @Sendable () -> UsageWriterMetrics
        var budgets: @Sendable () -> [BudgetLedger.Account]
        var cacheTotals: @Sendable () -> (entries: Int, bytes: Int)
        /// Requests between arrival and settlement.
        var requestsInFlight: @Sendable () -> Int = { 0 }
        /// Provider transfers open.
        var transfersActive: @Sendable () -> Int = { 0 }
    }

    private struct BudgetSeries {
        var labels: [String]
        var gauge: Gauge
    }

    private struct ScrapeState {
        var lastWriter = UsageWriterMetrics()
        var budgets: [String: BudgetSeries] = [:]
    }

    let registry: PrometheusCollectorRegistry
    private let sources: Sources
    private let started: ContinuousClock.Instant
    private let state = Mutex(ScrapeState())

    private let pending, flushLag, commitDuration, cacheEntries, cacheBytes, uptime: Gauge
    private let consecutiveFailures, requestsInFlight, transfersActive: Gauge
    private let written, dropped, duplicates, failedBatches: Counter

    init(registry: PrometheusCollectorRegistry, sources: Sources, startedAt: Date = Date()) {
        self.registry = registry
        self.sources = sources
        self.started = .now
        pending = registry.makeGauge(descriptor: Names.pending)
        consecutiveFailures = registry.makeGauge(descriptor: Names.consecutiveFailures)
        flushLag = registry.makeGauge(descriptor: Names.flushLag)
        commitDuration = registry.makeGauge(descriptor: Names.commitDuration)
        cacheEntries = registry.makeGauge(descriptor: Names.cacheEntries)
        cacheBytes = registry.makeGauge(descriptor: Names.cacheBytes)
        uptime = registry.makeGauge(descriptor: Names.uptime)
        requestsInFlight = registry.makeGauge(descriptor: Names.requestsInFlight)
        transfersActive = registry.makeGauge(descriptor: Names.transfersActive)
        registry.makeGauge(descriptor: Names.startTime).set(startedAt.timeIntervalSince1970.rounded(.down))
        written = registry.makeCounter(descriptor: Names.written)
        dropped = registry.makeCounter(descriptor: Names.dropped)
        duplicates = registry.makeCounter(descriptor: Names.duplicates)
        failedBatches = registry.makeCounter(descriptor: Names.failedBatches)
    }

    /// The Prometheus text exposition (format 0.0.4) of every series, state read now.
    func scrape() -> [UInt8] {
        let writer = sources.writer()
        let budgets = sources.budgets()
        let cache = sources.cacheTotals()
        let (inFlight, transfers) = (sources.requestsInFlight(), sources.transfersActive())
        return state.withLock { state in
            requestsInFlight.set(Int64(inFlight))
            transfersActive.set(Int64(transfers))
            pending.set(Int64(writer.pending))
            consecutiveFailures.set(Int64(writer.consecutiveFailures))
            flushLag.set(Self.seconds(writer.lastFlushLag))
            commitDuration.set(Self.seconds(writer.lastCommitDuration))
            Self.advance(written, from: state.lastWriter.written, to: writer.written)
            Self.advance(dropped, from: state.lastWriter.dropped, to: writer.dropped)
            Self.advance(duplicates, from: state.lastWriter.duplicates, to: writer.duplicates)
            Self.advance(failedBatches, from: state.lastWriter.failedBatches, to: writer.failedBatches)
            state.lastWriter = writer
            cacheEntries.set(Int64(cache.entries))
            cacheBytes.set(Int64(cache.bytes))
            uptime.set(Self.seconds(.now - started))
            updateBudgets(budgets, in: &state)
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return buffer
        }
    }

    /// One gauge per budget; a deleted budget's series goes, so dashboards do not show it frozen.
    private func updateBudgets(_ accounts: [BudgetLedger.Account], in state: inout ScrapeState) {
        var seen = Set<String>()
        for account in accounts {
            let budget = account.budget
            seen.insert(budget.id)
            let labels = [budget.id, budget.scope.rawValue, budget.org]
            if let held = state.budgets[budget.id], held.labels != labels {
                registry.unregisterGauge(held.gauge)
                state.budgets[budget.id] = nil
            }
            let gauge = state.budgets[budget.id]?.gauge ?? {
                let gauge = registry.makeGauge(
                    descriptor: Names.budgetUtilization,
                    labels: [("budget_id", labels[0]), ("scope", labels[1]), ("org", labels[2])])
                state.budgets[budget.id] = BudgetSeries(labels: labels, gauge: gauge)
                return gauge
            }()
            gauge.set(Self.utilization(account))
        }
        for (id, held) in state.budgets where !seen.contains(id) {
            registry.unregisterGauge(held.gauge)
            state.budgets[id] = nil
        }
    }

    /// (spent + reserved) / limit; a zero limit reads 0 while unused and +Inf once anything is.
    static func utilization(_ account: BudgetLedger.Account) -> Double {
        let used = Double(account.spentNanos) + Double(account.reservedNanos)
        guard account.budget.limitNanos > 0 else { return used > 0 ? .infinity : 0 }
        return used / Double(account.budget.limitNanos)
    }

    private static func advance(_ counter: Counter, from old: UInt64, to new: UInt64) {
        guard new > old else { return }
        counter.increment(by: Int64(clamping: new - old))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The names and help texts of the scrape-time series (docs/metrics.md lists them all).
    enum Names {
        static var pending: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "pending", unitName: "events",
                helpText: "Usage events waiting in memory to be committed.")
        }
        static var written: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "events_written", unitName: "total",
                helpText: "Usage events committed to the database.")
        }
        static var dropped: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "events_dropped", unitName: "total",
                helpText: "Usage events dropped because the writer's queue was full.")
        }
        static var duplicates: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "events_duplicate", unitName: "total",
                helpText: "Usage events ignored because their request id was already stored.")
        }
        static var failedBatches: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "failed_batches", unitName: "total",
                helpText: "Batch commits that failed; their events were kept and retried.")
        }
        static var consecutiveFailures: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "consecutive_failures",
                helpText: "Batch commits that failed in a row (0 when the last one committed); above 0 events wait for a retry.")
        }
        static var flushLag: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "last_flush_lag", unitName: "seconds",
                helpText: "How long the oldest event of the last committed batch waited in memory.")
        }
        static var commitDuration: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "usage_writer", metricName: "last_commit_duration", unitName: "seconds",
                helpText: "How long the last batch's transaction took.")
        }
        static var budgetUtilization: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "budget_utilization", unitName: "ratio",
                helpText: "A budget's (spent + reserved) / limit in its current period; 1 is the limit.")
        }
        static var cacheEntries: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "cache", metricName: "memory", unitName: "entries",
                helpText: "Response cache entries held in memory.")
        }
        static var cacheBytes: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "cache", metricName: "memory", unitName: "bytes",
                helpText: "Bytes of response cache entries held in memory (bounded by cache.max_bytes).")
        }
        static var uptime: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "process", metricName: "uptime", unitName: "seconds",
                helpText: "Seconds since Tollgate started.")
        }
        static var requestsInFlight: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "requests_in_flight",
                helpText: "Proxied requests received and not yet settled (their usage event recorded, their reservations released).")
        }
        static var transfersActive: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "upstream", metricName: "transfers_active",
                helpText: "Provider transfers open in libcurl.")
        }
        static var startTime: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", subsystem: "process", metricName: "start_time", unitName: "seconds",
                helpText: "When Tollgate started, in Unix seconds.")
        }
    }
}
