import Foundation
import TollgateCore

/// A usage event as the API and exports show it (SPEC §5 field names, money as exact decimals).
package enum UsageEventExport {
    /// Column order of CSV exports; JSON objects use the same names in the same order.
    package static let fields = [
        "request_id", "started_at", "org", "key_id", "team", "user", "department", "session", "tags", "provider",
        "endpoint", "model", "status", "outcome", "stream", "cached", "input_tokens", "output_tokens",
        "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "potential_cost_usd",
        "prompt_cache_savings_usd", "charged_usd", "latency_ms", "ttfb_ms", "upstream_ms", "bytes_in", "bytes_out",
        "usage_source", "priced", "pricing_version", "error",
    ]

    package static func json(_ e: UsageEvent) -> JSONObject {
        var o = JSONObject()
        o.add("request_id", e.requestID)
        o.add("started_at", UTCTime.iso(e.startedAtMs))
        o.add("org", e.org)
        o.add("key_id", e.keyID)
        o.add("team", e.team)
        o.add("user", e.user)
        o.add("department", e.department)
        o.add("session", e.session)
        var tags = JSONObject()
        for name in e.tags.keys.sorted() { tags.add(name, e.tags[name]) }
        o.add("tags", tags)
        o.add("provider", e.provider)
        o.add("endpoint", e.endpoint.rawValue)
        o.add("model", e.model)
        o.add("status", e.status)
        o.add("outcome", e.outcome.rawValue)
        o.add("stream", e.stream)
        o.add("cached", e.cached)
        o.add("input_tokens", e.usage.inputTokens)
        o.add("output_tokens", e.usage.outputTokens)
        o.add("cached_input_tokens", e.usage.cachedInputTokens)
        o.add("cache_write_tokens", e.usage.cacheWriteTokens)
        o.add("reasoning_tokens", e.usage.reasoningTokens)
        o.add("cost_usd", usd: e.costNanos)
        o.add("potential_cost_usd", usd: e.potentialCostNanos)
        o.add("prompt_cache_savings_usd", usd: e.promptCacheSavingsNanos)
        o.add("charged_usd", usd: e.chargedNanos)
        o.add("latency_ms", e.latencyMs)
        if let ttfb = e.ttfbMs { o.add("ttfb_ms", ttfb) } else { o.addNull("ttfb_ms") }
        if let upstream = e.upstreamMs { o.add("upstream_ms", upstream) } else { o.addNull("upstream_ms") }
        o.add("bytes_in", e.bytesIn)
        o.add("bytes_out", e.bytesOut)
        o.add("usage_source", e.usageSource.rawValue)
        o.add("priced", e.priced)
        o.add("pricing_version", e.pricingVersion)
        o.add("error", e.error)
        return o
    }

    /// The string a JSON string literal stands for.
    private static func unquote(_ literal: String) -> String {
        (try? JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)) as? String ?? literal
    }

    package static var csvHeader: String { fields.joined(separator: ",") + "\r\n" }

    /// One RFC 4180 row: the JSON rendering's values, strings unquoted unless they need quoting,
    /// null as an empty field, tags as their JSON object.
    package static func csvRow(_ e: UsageEvent) -> String {
        json(e).members.map { _, value in csvField(value) }.joined(separator: ",") + "\r\n"
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
