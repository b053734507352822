import Prometheus
import Synchronization
import Testing
import TollgateCore
import TollgateStorage

@testable import TollgateServer

/// Keeps what it is handed, as the usage writer would.
private final class SpyRecorder: UsageRecorder {
    let events = Mutex<[UsageEvent]>([])
    func record(_ event: UsageEvent) { events.withLock { $0.append(event) } }
}

/// The scraped lines, without HELP and TYPE comments.
private func samples(_ registry: PrometheusCollectorRegistry) -> Set<String> {
    Set(registry.emitToString().split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") })
}

private func event(
    _ id: String, provider: String = "openai", endpoint: Endpoint = .chat, outcome: Outcome = .ok,
    cached: Bool = false, usage: Usage = .zero, cost: Int64 = 0, potential: Int64 = 0, latencyMs: Double = 0,
    ttfbMs: Double? = nil
) -> UsageEvent {
    UsageEvent(
        requestID: id, startedAtMs: 0, org: "acme", keyID: "anonymous", provider: provider, endpoint: endpoint,
        model: "gpt-4o", status: 200, outcome: outcome, cached: cached, usage: usage, costNanos: cost,
        potentialCostNanos: potential, latencyMs: latencyMs, ttfbMs: ttfbMs)
}

@Suite("Metrics: usage events become Prometheus series")
struct MetricsRecorderTests {
    @Test("every event is counted and still reaches the writer")
    func countsAndForwards() {
        let registry = PrometheusCollectorRegistry()
        let spy = SpyRecorder()
        let recorder = MetricsRecorder(registry: registry, next: spy)
        let usage = Usage(inputTokens: 1234, outputTokens: 567, cachedInputTokens: 1000, reasoningTokens: 7)
        recorder.record(event("r1", usage: usage, cost: 1_234_567_891, potential: 1_234_567_891, latencyMs: 300, ttfbMs: 120))
        recorder.record(event("r2", usage: Usage(inputTokens: 1, outputTokens: 2), cost: 5, potential: 5, latencyMs: 2))
        recorder.record(event("r3", cached: true, usage: usage, cost: 0, potential: 1_234_567_891, latencyMs: 0.5))
        recorder.record(event("r4", provider: "anthropic", endpoint: .messages, outcome: .budgetBlocked))

        #expect(spy.events.withLock { $0.map(\.requestID) } == ["r1", "r2", "r3", "r4"])
        let lines = samples(registry)
        for expected in [
            #"tollgate_requests_total{provider="openai",endpoint="chat",outcome="ok",cached="false"} 2"#,
            #"tollgate_requests_total{provider="openai",endpoint="chat",outcome="ok",cached="true"} 1"#,
            #"tollgate_requests_total{provider="anthropic",endpoint="messages",outcome="budget_blocked",cached="false"} 1"#,
            #"tollgate_tokens_total{provider="openai",direction="input"} 2469"#,
            #"tollgate_tokens_total{provider="openai",direction="output"} 1136"#,
            #"tollgate_tokens_total{provider="openai",direction="cached_input"} 2000"#,
            #"tollgate_tokens_total{provider="openai",direction="cache_write"} 0"#,
            #"tollgate_tokens_total{provider="openai",direction="reasoning"} 14"#,
            #"tollgate_cost_nanodollars_total{provider="openai"} 1234567896"#,
            #"tollgate_cache_hits_total{provider="openai"} 1"#,
            #"tollgate_cache_savings_nanodollars_total{provider="openai"} 1234567891"#,
            #"tollgate_cost_nanodollars_total{provider="anthropic"} 0"#,
            #"tollgate_request_duration_seconds_count{provider="openai"} 3"#,
            #"tollgate_request_duration_seconds_bucket{provider="openai",le="0.001"} 1"#,
            #"tollgate_request_duration_seconds_bucket{provider="openai",le="0.005"} 2"#,
            #"tollgate_request_duration_seconds_bucket{provider="openai",le="0.5"} 3"#,
            #"tollgate_time_to_first_byte_seconds_count{provider="openai"} 1"#,
            #"tollgate_time_to_first_byte_seconds_bucket{provider="openai",le="0.1"} 0"#,
            #"tollgate_time_to_first_byte_seconds_bucket{provider="openai",le="0.25"} 1"#,
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
    }

    @Test("money beyond a Double's 2^53 stays an exact integer")
    func largeCostsStayExact() {
        let registry = PrometheusCollectorRegistry()
        let recorder = MetricsRecorder(registry: registry, next: SpyRecorder())
        for i in 0..<3 { recorder.record(event("r\(i)", cost: 1_000_000_000_000_000_001)) }
        #expect(samples(registry).contains(#"tollgate_cost_nanodollars_total{provider="openai"} 3000000000000000003"#))
    }
}
