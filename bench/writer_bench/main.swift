import Foundation
import Logging
import TollgateCore
import TollgateStorage

/// Writer-only benchmark: producers call `UsageWriter.record` as fast as they can while the writer
/// service commits in the background; prints sustained events/s (recorded → committed, rollups
/// included) for a file database in a temp directory.
///
/// Two modes: flat out (default: producers record as fast as they can, the writer catches up, so
/// batches are as large as `maxTransactionSize`), and paced (`--rate R`: producers record R events/s
/// in total, 1 ms slices, so the writer commits the way it does in production: a batch per
/// `--batch` events or per flush interval). Paced mode reports whether the writer kept up: the
/// largest queue and flush lag seen.
///
/// `--rollup-tags feature,prompt` rolls those tags up too (SPEC §13 `analytics.rollup_tags`).
///
/// Usage: WriterBench [--events N] [--producers P] [--rate R] [--flush-ms MS] [--batch N] [--days D] [--keep PATH]
///   [--rollup-tags T,…]

struct Options {
    var events = 500_000
    var producers = 2
    var flushMs = 100
    var batchSize = 512
    var rate: Int?
    var path: String?
    /// Days of traffic the events are spread over, ending 2026-11-20 (stats benchmarks use 30).
    var days = 1
    var rollupTags: [String] = []

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next()
            switch argument {
            case "--events": events = value.flatMap(Int.init) ?? events
            case "--producers": producers = value.flatMap(Int.init) ?? producers
            case "--flush-ms": flushMs = value.flatMap(Int.init) ?? flushMs
            case "--batch": batchSize = value.flatMap(Int.init) ?? batchSize
            case "--keep": path = value
            case "--rate": rate = value.flatMap(Int.init)
            case "--days": days = max(1, value.flatMap(Int.init) ?? days)
            case "--rollup-tags": rollupTags = value.map { $0.split(separator: ",").map(String.init) } ?? []
            default:
                FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

/// SplitMix64, so every run writes the same data.
struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A day of traffic in arrival order: 6 orgs with 4 keys each (a key belongs to one org and team,
/// as Tollgate keys do), 8 users per key, 8 models on 3 providers, log-normal latencies, a few tags,
/// mostly ok with some errors, blocks and cache hits, a department per key. About 1 500 full-detail
/// rollup rows per hour.
func makeEvents(count: Int, producer: Int, days: Int) -> [UsageEvent] {
    var random = Generator(state: UInt64(producer) &* 7919 &+ 1)
    let span = Int64(days) * 86_400_000
    let dayStart: Int64 = 1_795_132_800_000 + 86_400_000 - span
    let models = [
        ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("openai", "o3"), ("openai", "text-embedding-3-small"),
        ("anthropic", "claude-sonnet-4-5"), ("anthropic", "claude-haiku-4-5"), ("gemini", "gemini-2.5-pro"),
        ("gemini", "gemini-2.5-flash"),
    ]
    let outcomes: [Outcome] = Array(repeating: .ok, count: 17) + [.upstreamError, .rateLimited, .clientAbort]
    return (0..<count).map { index in
        let org = Int.random(in: 0..<6, using: &random)
        let key = Int.random(in: 0..<4, using: &random)
        let (provider, model) = models.randomElement(using: &random)!
        let outcome = outcomes.randomElement(using: &random)!
        let status = switch outcome {
        case .ok: 200
        case .rateLimited: 429
        case .clientAbort: 499
        default: 500
        }
        let input = Int.random(in: 10...30_000, using: &random)
        let output = Int.random(in: 0...2_000, using: &random)
        let cost = Int64(input) * 2_500 + Int64(output) * 10_000
        let cached = Int.random(in: 0..<20, using: &random) == 0
        let u = Double.random(in: Double.ulpOfOne...1, using: &random)
        let latency = 900 * exp(0.8 * (-2 * log(u)).squareRoot() * cos(2 * .pi * Double.random(in: 0...1, using: &random)))
        var tags: [String: String] = [:]
        if Bool.random(using: &random) { tags["feature"] = ["search", "chat", "agent"].randomElement(using: &random)! }
        // A tag of many values (a prompt version per request type), on a third of the requests.
        if Int.random(in: 0..<3, using: &random) == 0 { tags["prompt"] = "prompt-\(Int.random(in: 0..<300, using: &random))" }
        return UsageEvent(
            requestID: "req_\(producer)_\(index)_\(random.next() & 0xFFFF_FFFF)",
            startedAtMs: dayStart + Int64(index) * span / Int64(count),
            org: "org\(org)", keyID: "key_\(org)_\(key)", team: ["ml", "web", "data", nil][key],
            user: "user\(org)_\(key)_\(Int.random(in: 0..<8, using: &random))", department: ["research", "finance", "ops", nil][key],
            session: nil, tags: tags, provider: provider, endpoint: .chat, model: model, status: status, outcome: outcome,
            stream: Bool.random(using: &random), cached: cached,
            usage: Usage(inputTokens: input, outputTokens: output, cachedInputTokens: input / 4, reasoningTokens: output / 5),
            costNanos: cached ? 0 : cost, potentialCostNanos: cost, promptCacheSavingsNanos: cost / 20,
            chargedNanos: (cached ? 0 : cost) * 6 / 5, latencyMs: latency, ttfbMs: latency / 4, upstreamMs: latency * 0.97,
            bytesIn: Int64(input * 4), bytesOut: Int64(output * 4), usageSource: .provider, priced: true,
            pricingVersion: "2026-11-01")
    }
}

let options = Options(CommandLine.arguments)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writer-bench-\(UUID().uuidString)")
let path = options.path ?? directory.appendingPathComponent("bench.db").path
var logger = Logger(label: "writer-bench")
logger.logLevel = .warning

let perProducer = options.events / options.producers
let batches = (0..<options.producers).map { makeEvents(count: perProducer, producer: $0, days: options.days) }
let total = perProducer * options.producers

let database = try TollgateDatabase.open(at: path, logger: logger)
try await TagRollups.configure(TagRollupSettings(names: options.rollupTags), in: database, logger: logger)
let writer = UsageWriter(
    database: database,
    configuration: .init(flushInterval: .milliseconds(options.flushMs), batchSize: options.batchSize),
    logger: logger)
let service = Task { try await writer.run() }

let clock = ContinuousClock()
let monitor = Task {
    var maxPending = 0
    var maxLag = Duration.zero
    while !Task.isCancelled {
        let metrics = writer.metrics
        maxPending = max(maxPending, metrics.pending)
        maxLag = max(maxLag, metrics.lastFlushLag)
        try? await Task.sleep(for: .milliseconds(5))
    }
    return (maxPending, maxLag)
}
let started = clock.now
let recordTime = await withTaskGroup(of: Duration.self) { group in
    for events in batches {
        group.addTask {
            var busy = Duration.zero
            guard let rate = options.rate else {
                let start = clock.now
                for event in events { writer.record(event) }
                return clock.now - start
            }
            // Each producer records its share of `rate` in 1 ms slices.
            let perSlice = max(1, rate / options.producers / 1000)
            var next = clock.now
            var index = 0
            while index < events.count {
                let start = clock.now
                for event in events[index..<min(index + perSlice, events.count)] { writer.record(event) }
                busy += clock.now - start
                index += perSlice
                next = next.advanced(by: .milliseconds(1))
                try? await clock.sleep(until: next)
            }
            return busy
        }
    }
    var sum = Duration.zero
    for await duration in group { sum += duration }
    return sum
}
let recorded = clock.now
try await writer.flush()
let committed = clock.now
service.cancel()
try await service.value

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let store = UsageStore(database: database)
let summary = try await store.summary(filter: StatsFilter())
let metrics = writer.metrics
monitor.cancel()
let (maxPending, maxLag) = await monitor.value
let elapsed = seconds(committed - started)
print("events:               \(total) from \(options.producers) producers (flush \(options.flushMs) ms, batch \(options.batchSize), rate \(options.rate.map(String.init) ?? "flat out"))")
print("recording took:       \(String(format: "%.3f", seconds(recorded - started))) s (\(String(format: "%.0f", seconds(recordTime) / Double(total) * 1e9)) ns per record call)")
print("committed after:      \(String(format: "%.3f", elapsed)) s")
print("sustained throughput: \(String(format: "%.0f", Double(total) / elapsed)) events/s")
print("queue:                at most \(maxPending) pending, flush lag at most \(maxLag)")
print("batches:              \(metrics.batches) (avg \(total / max(Int(metrics.batches), 1)) events), written \(metrics.written), duplicates \(metrics.duplicates), dropped \(metrics.dropped)")
print("check:                requests \(summary.requests), cost \(summary.costNanos) nanos, p50 \(summary.p50LatencyMs ?? 0) ms")
if options.path == nil { try? FileManager.default.removeItem(at: directory) }
