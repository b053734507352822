import Foundation
import TollgateCore

@testable import TollgateStorage

/// A fresh directory under the system temp directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var databasePath: String { url.appendingPathComponent("tollgate.db").path }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Runs `body` with a freshly created and migrated database file, then deletes it.
func withTemporaryDatabase<T>(_ body: (TollgateDatabase, TemporaryDirectory) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let database = try TollgateDatabase.open(at: directory.databasePath)
    return try await body(database, directory)
}

/// A small deterministic random generator (SplitMix64), so generated data is the same each run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixtures {
    /// 2026-11-20T00:00:00Z in Unix milliseconds: a UTC midnight.
    static let day0: Int64 = 1_795_132_800_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    static func event(
        _ id: String, at startedAt: Int64 = day0, org: String = "acme", key: String = "key_a",
        team: String? = nil, user: String? = nil, department: String? = nil, tags: [String: String] = [:], provider: String = "openai",
        endpoint: Endpoint = .chat, model: String = "gpt-4o", outcome: Outcome = .ok, cached: Bool = false,
        usage: Usage = Usage(inputTokens: 100, outputTokens: 20), costNanos: Int64 = 1_234,
        latencyMs: Double = 250, priced: Bool = true
    ) -> UsageEvent {
        UsageEvent(
            requestID: id, startedAtMs: startedAt, org: org, keyID: key, team: team, user: user, department: department, tags: tags,
            provider: provider, endpoint: endpoint, model: model, status: outcome == .ok ? 200 : 500,
            outcome: outcome, cached: cached, usage: usage, costNanos: costNanos,
            potentialCostNanos: costNanos + (cached ? 5_000 : 0), promptCacheSavingsNanos: costNanos / 10,
            chargedNanos: costNanos + costNanos / 5, latencyMs: latencyMs, ttfbMs: latencyMs / 3,
            upstreamMs: latencyMs * 0.9, bytesIn: 512, bytesOut: 2048, usageSource: .provider, priced: priced,
            pricingVersion: priced ? "2026-11-01" : nil)
    }

    /// `count` varied events over `days` days from `day0`: several orgs, keys, teams, users,
    /// providers, models and outcomes, log-normal latencies, some tags, some unpriced and cached.
    static func mixedEvents(count: Int, days: Int = 3, seed: UInt64 = 42, idPrefix: String = "req") -> [UsageEvent] {
        var random = SeededGenerator(seed: seed)
        let orgs = ["acme", "globex", "initech"]
        let models = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"), ("gemini", "gemini-2.5-pro")]
        let outcomes: [Outcome] = [.ok, .ok, .ok, .ok, .ok, .ok, .upstreamError, .budgetBlocked, .rateLimited, .clientAbort, .invalidRequest]
        return (0..<count).map { index in
            let org = orgs.randomElement(using: &random)!
            let (provider, model) = models.randomElement(using: &random)!
            let outcome = outcomes.randomElement(using: &random)!
            let input = Int.random(in: 0...20_000, using: &random)
            let cachedInput = Int.random(in: 0...input, using: &random)
            let output = Int.random(in: 0...4_000, using: &random)
            let usage = Usage(
                inputTokens: input, outputTokens: output, cachedInputTokens: cachedInput,
                cacheWriteTokens: Int.random(in: 0...100, using: &random),
                reasoningTokens: Int.random(in: 0...output, using: &random))
            let latency = exp(Double.random(in: 0...1, using: &random) * 9 - 1)  // ~0.4 ms to ~3 000 ms
            let endpoint: Endpoint = Int.random(in: 0..<10, using: &random) == 0 ? .other : .chat
            var tags: [String: String] = [:]
            if Bool.random(using: &random) { tags["feature"] = ["search", "chat", "summarize"].randomElement(using: &random)! }
            if Int.random(in: 0..<4, using: &random) == 0 { tags["agent"] = "planner" }
            return event(
                "\(idPrefix)-\(index)", at: day0 + Int64.random(in: 0..<(Int64(days) * day), using: &random), org: org,
                key: "key_\(org)_\(Int.random(in: 0..<3, using: &random))",
                team: Bool.random(using: &random) ? ["ml", "web"].randomElement(using: &random)! : nil,
                user: Int.random(in: 0..<3, using: &random) == 0 ? nil : "user\(Int.random(in: 0..<5, using: &random))",
                department: [nil, "research", "finance"].randomElement(using: &random)!,
                tags: tags, provider: provider, endpoint: endpoint, model: model, outcome: outcome,
                cached: Int.random(in: 0..<8, using: &random) == 0, usage: usage,
                costNanos: Int64.random(in: 0...90_000_000_000, using: &random), latencyMs: latency,
                priced: Int.random(in: 0..<12, using: &random) != 0)
        }
    }

    /// Exact nearest-rank percentile of `values`.
    static func exactPercentile(_ values: [Double], _ quantile: Double) -> Double {
        let sorted = values.sorted()
        let rank = max(1, Int((quantile * Double(sorted.count)).rounded(.up)))
        return sorted[rank - 1]
    }
}

extension UsageWriter {
    /// A writer with a flush interval long enough that only `flush()` or the batch size commits.
    static func manual(_ database: TollgateDatabase, batchSize: Int = 100_000) -> UsageWriter {
        UsageWriter(
            database: database, configuration: Configuration(flushInterval: .seconds(3600), batchSize: batchSize))
    }
}
