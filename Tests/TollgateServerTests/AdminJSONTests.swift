import Foundation
import Testing
import TollgateCore
@testable import TollgateServer
import TollgateStorage

@Suite("Typed admin answers: exact money, null fields, one definition of the summary")
struct AdminJSONTests {
    /// A summary whose money needs all nine decimals and whose sums are beyond a Double's 53 bits.
    static var summary: StatsSummary {
        var s = StatsSummary()
        s.requests = 3
        s.okRequests = 2
        s.errorRequests = 1
        s.cachedRequests = 1
        s.costNanos = 9_007_199_254_740_993  // 2^53 + 1 nano-dollars: a Double would round it
        s.potentialCostNanos = 9_007_199_254_740_993 + 21_600
        s.chargedNanos = 1
        return s
    }

    @Test("money is written as its exact decimal digits, and read back to the nano-dollar")
    func exactMoney() throws {
        let fields = SummaryFields(Self.summary, activeUsers: 2, feedback: FeedbackTotals())
        let json = AdminJSON.string(fields)
        #expect(json.contains(#""cost_usd":9007199.254740993"#))
        #expect(json.contains(#""savings_usd":0.0000216"#))
        #expect(json.contains(#""profit_usd":-9007199.254740992"#))
        #expect(json.contains(#""cache_hit_rate":0.3333"#))
        let decoded = try JSONDecoder().decode(SummaryFields.self, from: Data(json.utf8))
        #expect(decoded == fields)
        #expect(decoded.costUSD.nanos == 9_007_199_254_740_993)
    }

    @Test("an absent optional is written as null where the API shows every field, and left out where it does not")
    func nulls() {
        let row = GroupSummary(bucket: nil, group: nil, StatsSummary(), activeUsers: 0, feedback: FeedbackTotals())
        let cells = AnswerCells.of(row)
        #expect(cells["group"] == "null")
        #expect(cells["bucket"] == nil)
        #expect(cells["requests"] == "0")
        #expect(AnswerCells.display(cells["group"]) == "-")
    }

    @Test("a period summary is the summary fields with from and to, flattened into one object")
    func flattened() throws {
        let period = PeriodSummary(Self.summary, activeUsers: 2, feedback: FeedbackTotals(), range: (fromMs: 0, toMs: 86_400_000))
        let answer = SummaryAnswer(period: period)
        let cells = AnswerCells.of(answer)
        #expect(cells["from"] == #""1970-01-01T00:00:00Z""#)
        #expect(cells["to"] == #""1970-01-02T00:00:00Z""#)
        #expect(cells["requests"] == "3")
        #expect(cells["previous"] == nil && cells["change_pct"] == nil)
        // Every summary field appears once, at the top level, under its SPEC §9 name.
        for key in ["requests", "ok_requests", "error_requests", "blocked_requests", "cached_requests", "cache_hit_rate", "input_tokens",
                    "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "potential_cost_usd",
                    "savings_usd", "savings_pct", "prompt_cache_savings_usd", "charged_usd", "profit_usd", "avg_latency_ms",
                    "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "unpriced_requests", "active_users", "feedback_count", "avg_rating", "total_tokens", "success_rate", "avg_cost_per_request_usd"] {
            #expect(cells[key] != nil, "\(key)")
        }
        let decoded = try JSONDecoder().decode(SummaryAnswer.self, from: Data(AdminJSON.string(answer).utf8))
        #expect(decoded == answer)
    }

    @Test("the change against an empty previous period is null, not infinite")
    func changeAgainstNothing() {
        var before = StatsSummary()
        before.requests = 2
        let change = SummaryAnswer.Change(now: Self.summary, before: before)
        #expect(change.requests == 50)
        #expect(change.costUSD == nil)
        #expect(AnswerCells.of(change)["cost_usd"] == "null")
    }

    @Test("cells keep a string's characters; the terminal shows it unquoted")
    func cells() {
        let view = KeyView(TollgateKey(id: "key_1", hash: "h", prefix: "tg_ab", org: "acme", name: "a \"quoted\"\nname,", createdAtMs: 0))
        let cells = AnswerCells.of(view)
        #expect(AnswerCells.display(cells["name"]) == "a \"quoted\"\nname,")
        #expect(cells["team"] == "null")
        #expect(cells["key"] == nil, "the secret appears only when the key is issued")
        #expect(AnswerCells.of(KeyView(TollgateKey(id: "k", hash: "h", prefix: "p", org: "o", createdAtMs: 0), secret: "tg_s"))["key"] == #""tg_s""#)
    }

    /// What Foundation's encoder writes, money aside (it goes through `Decimal`, which writes the same digits).
    private static func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Every shape the answers use: nested and merged containers, optionals left out or null,
    /// floats, Decimal, dictionaries, arrays of arrays, strings needing escapes.
    private struct Shapes: Encodable {
        var text = "a/b \"q\" \\ é 🦊 tab\tnewline\n"
        var control = "bell\u{7} unit\u{1f}"
        var doubles: [Double] = [0, 1, -1.5, 0.1, 1e-7, 123456789.125, 1e21, 2.5e-5]
        var floats: [Float] = [0.25, 3]
        var integers: [Int64] = [.min, -1, 0, .max]
        var unsigned: [UInt8] = [0, 255]
        var flags = [true, false]
        var decimal = Decimal(string: "12.3456789")!
        var money = Money(nanos: -1_000_000_001)
        var moneys: [Money?] = [Money(nanos: 5), nil]
        var absent: String? = nil
        @Nullable var null: Int64? = nil
        var map: [String: [String]] = ["b": ["x"], "a": [], "ab": ["y", "z"]]
        var nested: [[Int]] = [[1, 2], [], [3]]
        var empty: [String: Int] = [:]
        var summary = GroupSummary(bucket: "2026-01-01T00:00:00Z", group: "g", AdminJSONTests.summary, activeUsers: nil, feedback: FeedbackTotals())
        var rows = [Twice(), Twice(), Twice()]
    }

    /// Writes one member twice through two containers: the later value is kept, as by `JSONEncoder`.
    private struct Twice: Encodable {
        enum Keys: String, CodingKey { case b, a }
        func encode(to encoder: any Encoder) throws {
            var first = encoder.container(keyedBy: Keys.self)
            try first.encode(1, forKey: .b)
            try first.encode(2, forKey: .a)
            var second = encoder.container(keyedBy: Keys.self)
            try second.encode(3, forKey: .b)
        }
    }

    @Test("the admin encoder writes what JSONEncoder with sorted keys writes, byte for byte")
    func sameAsFoundation() throws {
        let shapes = Shapes()
        let ours = try AdminJSONEncoder.encode(shapes)
        let theirs = try Self.foundation(shapes)
        #expect(ours == theirs)
        var feedback = FeedbackTotals()
        (feedback.count, feedback.rated, feedback.ratingSum) = (3, 2, 7)
        let period = PeriodSummary(Self.summary, activeUsers: 2, feedback: feedback, range: (fromMs: 0, toMs: 86_400_000))
        var previous = period
        previous.fields.requests = 0
        let answer = SummaryAnswer(period: period, previous: previous, changePct: SummaryAnswer.Change(now: Self.summary, before: StatsSummary()))
        #expect(try AdminJSONEncoder.encode(answer) == Self.foundation(answer))
        #expect(throws: EncodingError.self) { try AdminJSONEncoder.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try AdminJSONEncoder.encode(["x": Double.infinity]) }
    }

    @Test("typed queries read the endpoint's parameters, refusing what they cannot answer")
    func queries() throws {
        let breakdown = try BreakdownQuery(QueryParameters(["by": "tag.Feature", "order": "tokens", "limit": "5", "org": "acme"]))
        #expect(breakdown == BreakdownQuery(filters: StatsQuery(org: "acme"), by: .tag("feature"), order: .tokens, limit: 5))
        #expect(throws: InvalidQuery.self) { try BreakdownQuery(QueryParameters(["by": "model", "order": "price"])) }
        #expect(throws: InvalidQuery.self) { try BreakdownQuery(QueryParameters(["order": "cost"])) }
        #expect(throws: InvalidQuery.self) { try TimeseriesQuery(QueryParameters(["granularity": "minute"])) }
        #expect(throws: InvalidQuery.self) { try ForecastQuery(QueryParameters(["history_days": "6"])) }
        #expect(throws: InvalidQuery.self) { try SummaryQuery(QueryParameters(["compare": "last-year"])) }
        #expect(try SummaryQuery(QueryParameters(["compare": "previous"])).compareWithPrevious)
        // Queries are Codable values too: a dimension travels as its parameter text.
        let json = AdminJSON.string(breakdown)
        #expect(json.contains(#""by":"tag.feature""#))
        #expect(try JSONDecoder().decode(BreakdownQuery.self, from: Data(json.utf8)) == breakdown)
    }
}
