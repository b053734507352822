import Foundation
import Testing
@testable import TollgateCore

/// Recorded-style provider answers in `Tests/TollgateCoreTests/Fixtures`, read by path so the
/// test target needs no resource bundle.
enum MeteringFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        let url = directory.appendingPathComponent(name)
        return Array(try #require(FileManager.default.contents(atPath: url.path), "fixture \(name) missing"))
    }

    static func text(_ name: String) throws -> String { String(decoding: try bytes(name), as: UTF8.self) }

    /// The repository's own pricing.json.
    static func shippedPricing() throws -> PricingTable {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("pricing.json")
        return try PricingTable(json: try #require(FileManager.default.contents(atPath: url.path), "pricing.json missing"))
    }

    /// A small fixed price list, so the hand-computed costs below never move with pricing.json.
    static let table = try! PricingTable(text: """
        {"version":"test-2","models":{
          "gpt-4o":{"provider":"openai","input":"2.50","output":"10.00","cached_input":"1.25","max_output_tokens":16384},
          "gpt-4o-2024-05-13":{"provider":"openai","input":"5.00","output":"15.00"},
          "gpt-4o-mini":{"provider":"openai","input":"0.15","output":"0.60","cached_input":"0.075"},
          "gpt-4":{"provider":"openai","input":"30.00","output":"60.00"},
          "o3":{"provider":"openai","input":"2.00","output":"8.00","cached_input":"0.50"},
          "gpt-5":{"provider":"openai","input":"1.25","output":"10.00","cached_input":"0.125"},
          "text-embedding-3-small":{"provider":"openai","input":"0.02","output":"0.00"},
          "claude-sonnet-4-5":{"provider":"anthropic","input":"3.00","output":"15.00","cached_input":"0.30","cache_write":"3.75",
            "tiers":[{"above_input_tokens":200000,"input":"6.00","output":"22.50","cached_input":"0.60","cache_write":"7.50"}]},
          "claude-haiku-3-test":{"provider":"anthropic","input":"0.80","output":"4.00","cached_input":"0.08"},
          "gemini-2.5-pro":{"provider":"gemini","input":"1.25","output":"10.00","cached_input":"0.125",
            "tiers":[{"above_input_tokens":200000,"input":"2.50","output":"15.00","cached_input":"0.25"}]},
          "gemini-2.5-flash":{"provider":"gemini","input":"0.30","output":"2.50","cached_input":"0.03"},
          "openai/gpt-oss-20b":{"provider":"groq","input":"0.075","output":"0.30"},
          "together/openai/gpt-oss-20b":{"provider":"together","input":"0.05","output":"0.20"},
          "tiny":{"input":"0.0375","output":"0.000001"}},
         "aliases":{"claude-sonnet-4.5":"claude-sonnet-4-5","my-default":"gpt-4o-mini"}}
        """)

    /// Feeds `bytes` to a fresh meter in pieces of `size` and returns what it forwarded.
    static func meter(
        _ bytes: [UInt8], format: ProviderFormat, endpoint: Endpoint, strip: Bool, size: Int
    ) -> (forwarded: [UInt8], meter: StreamMeter) {
        var meter = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: strip)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            out += meter.feed(bytes[i..<min(i + size, bytes.count)])
            i += size
        }
        out += meter.finish()
        return (out, meter)
    }
}
