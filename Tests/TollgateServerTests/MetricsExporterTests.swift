import Prometheus
import Synchronization
import Testing
import TollgateCore
import TollgateStorage

@testable import TollgateServer

@Suite("Metrics: state read at scrape time")
struct MetricsExporterTests {
    /// State the test changes between scrapes.
    private final class Box<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
    }

    private static func account(_ id: String, limit: Int64, spent: Int64, reserved: Int64) -> BudgetLedger.Account {
        BudgetLedger.Account(
            budget: Budget(id: id, scope: .team, scopeID: "ml", org: "acme", limitNanos: limit, period: .month),
            periodStartMs: 0, spentNanos: spent, reservedNanos: reserved)
    }

    @Test("writer, budget, cache and process figures appear, and a deleted budget's series goes")
    func scrapeTimeGauges() {
        let budgets = Box<[BudgetLedger.Account]>([])
        budgets.value.withLock {
            $0 = [
                Self.account("bud_a", limit: 1_000_000_000, spent: 250_000_000, reserved: 250_000_000),
                Self.account("bud_zero", limit: 0, spent: 0, reserved: 0),
            ]
        }
        let writer = Box(UsageWriterMetrics())
        writer.value.withLock {
            $0.pending = 3
            $0.written = 10
            $0.dropped = 1
            $0.duplicates = 2
            $0.lastFlushLag = .milliseconds(250)
        }
        let registry = PrometheusCollectorRegistry()
        let exporter = MetricsExporter(
            registry: registry,
            sources: .init(
                writer: { writer.value.withLock { $0 } }, budgets: { budgets.value.withLock { $0 } },
                cacheTotals: { (entries: 4, bytes: 4096) }))

        var text = String(decoding: exporter.scrape(), as: UTF8.self)
        for expected in [
            "tollgate_usage_writer_pending_events 3.0",
            "tollgate_usage_writer_events_written_total 10",
            "tollgate_usage_writer_events_dropped_total 1",
            "tollgate_usage_writer_events_duplicate_total 2",
            "tollgate_usage_writer_last_flush_lag_seconds 0.25",
            #"tollgate_budget_utilization_ratio{budget_id="bud_a",scope="team",org="acme"} 0.5"#,
            #"tollgate_budget_utilization_ratio{budget_id="bud_zero",scope="team",org="acme"} 0.0"#,
            "tollgate_cache_memory_entries 4.0",
            "tollgate_cache_memory_bytes 4096.0",
        ] {
            #expect(text.contains(expected + "\n"), "missing: \(expected)")
        }
        #expect(text.contains("tollgate_process_uptime_seconds "))

        writer.value.withLock { $0.written = 25 }
        budgets.value.withLock { _ = $0.removeLast() }
        text = String(decoding: exporter.scrape(), as: UTF8.self)
        #expect(text.contains("tollgate_usage_writer_events_written_total 25\n"))
        #expect(!text.contains("bud_zero"))
        #expect(text.contains(#"budget_id="bud_a""#))
    }
}
