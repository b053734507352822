import Prometheus
import Synchronization
import TollgateCore

/// The recording stage's metrics: counts each usage event into the Prometheus registry, then hands
/// it to the next recorder (the usage writer).
///
/// A decorator, so the proxy stays unaware of metrics and every path that records an event —
/// refused, failed, aborted, served or cached — is counted exactly as it is stored. It runs on the
/// request path, so the work per event is one short lock to find the event's cached series (label
/// sets are built only the first time a provider, endpoint, outcome and cache flag combination is
/// seen), a few relaxed atomic increments, and two histogram records.
final class MetricsRecorder: UsageRecorder {
    /// The series of one provider that do not depend on the endpoint or outcome.
    private final class ProviderSeries: Sendable {
        let input, output, cachedInput, cacheWrite, reasoning: Counter
        let cost, cacheHits, cacheSavings, promptCacheSavings: Counter
        let latency, firstByte: ValueHistogram

        init(provider: String, registry: PrometheusCollectorRegistry) {
            let byProvider = [("provider", provider)]
            func tokens(_ direction: String) -> Counter {
                registry.makeCounter(descriptor: Names.tokens, labels: [("provider", provider), ("direction", direction)])
            }
            input = tokens("input")
            output = tokens("output")
            cachedInput = tokens("cached_input")
            cacheWrite = tokens("cache_write")
            reasoning = tokens("reasoning")
            cost = registry.makeCounter(descriptor: Names.cost, labels: byProvider)
            cacheHits = registry.makeCounter(descriptor: Names.cacheHits, labels: byProvider)
            cacheSavings = registry.makeCounter(descriptor: Names.cacheSavings, labels: byProvider)
            promptCacheSavings = registry.makeCounter(descriptor: Names.promptCacheSavings, labels: byProvider)
            latency = registry.makeValueHistogram(
                descriptor: Names.latency, labels: byProvider, buckets: MetricsRecorder.latencyBuckets)
            firstByte = registry.makeValueHistogram(
                descriptor: Names.firstByte, labels: byProvider, buckets: MetricsRecorder.firstByteBuckets)
        }
    }

    /// The labels of `tollgate_requests_total` besides the provider; enums, so hashing is cheap.
    private struct RequestLabels: Hashable {
        var endpoint: Endpoint
        var outcome: Outcome
        var cached: Bool
    }

    private struct ProviderEntry {
        let series: ProviderSeries
        var requests: [RequestLabels: Counter] = [:]
    }

    /// Seconds. LLM calls range from a refused request (microseconds) and an embedding (tens of
    /// milliseconds) to a long reasoning stream (minutes), so the buckets span 1 ms to 10 min.
    static let latencyBuckets: [Double] = [
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600,
    ]
    /// Seconds. Time to first byte is what a streaming user waits before text appears.
    static let firstByteBuckets: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120]

    let registry: PrometheusCollectorRegistry
    let next: any UsageRecorder
    /// Providers are the configured ones plus `unknown`, so this stays small.
    private let providers = Mutex<[String: ProviderEntry]>([:])

    init(registry: PrometheusCollectorRegistry, next: any UsageRecorder) {
        self.registry = registry
        self.next = next
    }

    func record(_ event: UsageEvent) {
        count(event)
        next.record(event)
    }

    /// Adds one event to the series; the event itself is not kept.
    func count(_ event: UsageEvent) {
        let labels = RequestLabels(endpoint: event.endpoint, outcome: event.outcome, cached: event.cached)
        let (series, requests) = providers.withLock { providers in
            if let entry = providers[event.provider], let counter = entry.requests[labels] {
                return (entry.series, counter)
            }
            return Self.createSeries(in: &providers, provider: event.provider, labels: labels, registry: registry)
        }
        requests.increment(by: Int64(1))
        let usage = event.usage
        Self.add(usage.inputTokens, to: series.input)
        Self.add(usage.outputTokens, to: series.output)
        Self.add(usage.cachedInputTokens, to: series.cachedInput)
        Self.add(usage.cacheWriteTokens, to: series.cacheWrite)
        Self.add(usage.reasoningTokens, to: series.reasoning)
        Self.add(event.costNanos, to: series.cost)
        Self.add(event.promptCacheSavingsNanos, to: series.promptCacheSavings)
        if event.cached {
            series.cacheHits.increment(by: Int64(1))
            Self.add(event.potentialCostNanos - event.costNanos, to: series.cacheSavings)
        }
        series.latency.record(event.latencyMs / 1000)
        if let ttfb = event.ttfbMs { series.firstByte.record(ttfb / 1000) }
    }

    /// The slow path, once per label set: registers the series (the registry returns an existing
    /// one for a name and labels it already holds).
    private static func createSeries(
        in providers: inout [String: ProviderEntry], provider: String, labels: RequestLabels,
        registry: PrometheusCollectorRegistry
    ) -> (ProviderSeries, Counter) {
        var entry = providers[provider] ?? ProviderEntry(series: ProviderSeries(provider: provider, registry: registry))
        let counter = registry.makeCounter(
            descriptor: Names.requests,
            labels: [
                ("provider", provider), ("endpoint", labels.endpoint.rawValue), ("outcome", labels.outcome.rawValue),
                ("cached", labels.cached ? "true" : "false"),
            ])
        entry.requests[labels] = counter
        providers[provider] = entry
        return (entry.series, counter)
    }

    /// Counters only go up; a zero (the common case for most token kinds) skips the atomic.
    private static func add(_ amount: some BinaryInteger, to counter: Counter) {
        guard amount > 0 else { return }
        counter.increment(by: Int64(amount))
    }

    /// The names and help texts of the per-request series (docs/metrics.md lists them all).
    enum Names {
        static var requests: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "requests", unitName: "total",
                helpText: "Requests through the proxy, one per usage event.")
        }
        static var tokens: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "tokens", unitName: "total",
                helpText: "Tokens as recorded in usage events; cached_input and cache_write are parts of input, reasoning of output.")
        }
        static var cost: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "cost", unitName: "nanodollars_total",
                helpText: "Cost paid to the provider in nano-dollars (1e-9 USD); 0 for cache hits.")
        }
        static var cacheHits: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "cache_hits", unitName: "total",
                helpText: "Requests answered from Tollgate's response cache.")
        }
        static var cacheSavings: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "cache_savings", unitName: "nanodollars_total",
                helpText: "What cache hits would have cost without the response cache, in nano-dollars.")
        }
        static var promptCacheSavings: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "prompt_cache_savings", unitName: "nanodollars_total",
                helpText: "What the provider's own prompt caching saved, net of cache-write premiums, in nano-dollars.")
        }
        static var latency: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "request_duration", unitName: "seconds",
                helpText: "Total time from the request's arrival to the end of its answer.")
        }
        static var firstByte: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "tollgate", metricName: "time_to_first_byte", unitName: "seconds",
                helpText: "Time from sending the request upstream to the provider's first byte; requests never forwarded have none.")
        }
    }
}
