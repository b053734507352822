import Foundation
import TollgateCore

/// A usage event as the API and exports show it (SPEC §5 field names, money as exact decimals).
package enum UsageEventExport {
    /// Column order of CSV exports: `UsageEventView`'s members.
    package static let fields = UsageEventView.CodingKeys.allCases.map(\.rawValue)

    /// The string a JSON string literal stands for.
    private static func unquote(_ literal: String) -> String {
        (try? JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)) as? String ?? literal
    }

    package static var csvHeader: String { fields.joined(separator: ",") + "\r\n" }

    /// The event as a JSON object, as `/admin/usage` and JSON exports show it.
    package static func json(_ e: UsageEvent) -> String { AdminJSON.string(UsageEventView(e)) }

    /// One RFC 4180 row: the JSON rendering's values, strings unquoted unless they need quoting,
    /// null as an empty field, tags as their JSON object.
    package static func csvRow(_ e: UsageEvent) -> String {
        let cells = AnswerCells.of(UsageEventView(e))
        return fields.map { csvField(cells[$0] ?? "null") }.joined(separator: ",") + "\r\n"
    }

    /// First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// One field from its JSON text. Numbers (negative money included), booleans and the tags
    /// object stay as they are; a string that a spreadsheet would run as a formula (`=HYPERLINK(…)`
    /// in a user name, say) is neutralised as OWASP recommends: a single quote before it, inside a
    /// quoted cell, so it shows as the text it is.
    static func csvField(_ json: String) -> String {
        if json == "null" { return "" }
        guard json.hasPrefix("\"") else { return quotedIfNeeded(json) }
        let text = unquote(json)
        if let first = text.unicodeScalars.first, formulaStarts.contains(first) {
            return "\"'" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return quotedIfNeeded(text)
    }

    private static func quotedIfNeeded(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A usage event as the API and exports show it: SPEC §5 field names, money as exact decimals,
/// every field present (null where unknown).
package struct UsageEventView: Codable, Sendable, Equatable {
    package var requestID: String
    package var startedAt: String
    package var org: String
    package var keyID: String
    @Nullable package var team: String?
    @Nullable package var user: String?
    @Nullable package var department: String?
    @Nullable package var session: String?
    package var tags: [String: String]
    package var provider: String
    package var endpoint: String
    package var model: String
    package var status: Int
    package var outcome: String
    package var stream: Bool
    package var cached: Bool
    package var inputTokens: Int
    package var outputTokens: Int
    package var cachedInputTokens: Int
    package var cacheWriteTokens: Int
    package var reasoningTokens: Int
    package var costUSD: Money
    package var potentialCostUSD: Money
    package var promptCacheSavingsUSD: Money
    package var chargedUSD: Money
    package var latencyMs: Double
    @Nullable package var ttfbMs: Double?
    @Nullable package var upstreamMs: Double?
    package var bytesIn: Int64
    package var bytesOut: Int64
    package var usageSource: String
    package var priced: Bool
    @Nullable package var pricingVersion: String?
    @Nullable package var error: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requestID = "request_id", startedAt = "started_at", org, keyID = "key_id", team, user, department, session, tags
        case provider, endpoint, model, status, outcome, stream, cached, inputTokens = "input_tokens", outputTokens = "output_tokens"
        case cachedInputTokens = "cached_input_tokens", cacheWriteTokens = "cache_write_tokens", reasoningTokens = "reasoning_tokens"
        case costUSD = "cost_usd", potentialCostUSD = "potential_cost_usd", promptCacheSavingsUSD = "prompt_cache_savings_usd"
        case chargedUSD = "charged_usd", latencyMs = "latency_ms", ttfbMs = "ttfb_ms", upstreamMs = "upstream_ms", bytesIn = "bytes_in"
        case bytesOut = "bytes_out", usageSource = "usage_source", priced, pricingVersion = "pricing_version", error
    }

    package init(_ e: UsageEvent) {
        requestID = e.requestID
        startedAt = UTCTime.iso(e.startedAtMs)
        org = e.org
        keyID = e.keyID
        team = e.team
        user = e.user
        department = e.department
        session = e.session
        tags = e.tags
        provider = e.provider
        endpoint = e.endpoint.rawValue
        model = e.model
        status = e.status
        outcome = e.outcome.rawValue
        stream = e.stream
        cached = e.cached
        inputTokens = e.usage.inputTokens
        outputTokens = e.usage.outputTokens
        cachedInputTokens = e.usage.cachedInputTokens
        cacheWriteTokens = e.usage.cacheWriteTokens
        reasoningTokens = e.usage.reasoningTokens
        costUSD = Money(nanos: e.costNanos)
        potentialCostUSD = Money(nanos: e.potentialCostNanos)
        promptCacheSavingsUSD = Money(nanos: e.promptCacheSavingsNanos)
        chargedUSD = Money(nanos: e.chargedNanos)
        latencyMs = Rounded.value(e.latencyMs, digits: 3)
        ttfbMs = e.ttfbMs.map { Rounded.value($0, digits: 3) }
        upstreamMs = e.upstreamMs.map { Rounded.value($0, digits: 3) }
        bytesIn = e.bytesIn
        bytesOut = e.bytesOut
        usageSource = e.usageSource.rawValue
        priced = e.priced
        pricingVersion = e.pricingVersion
        self.error = e.error
    }
}
