import Foundation

/// Prices of one model, as integers: micro-dollars per million tokens, which is exactly
/// pico-dollars per token, so `tokens × rate` is an exact cost in pico-dollars.
package struct ModelPrice: Sendable, Equatable {
    package struct Rates: Sendable, Equatable {
        package var input: Int64
        package var output: Int64
        /// Reading from the provider's prompt cache (defaults to `input`).
        package var cachedInput: Int64
        /// Writing to it (defaults to `input`: only Anthropic charges a premium, and lists it).
        package var cacheWrite: Int64
    }

    package var rates: Rates
    /// Rates that apply instead when a request's input exceeds `aboveInputTokens`, ascending.
    package var tiers: [(aboveInputTokens: Int, rates: Rates)]
    package var maxOutputTokens: Int?

    /// The rates for a request with `inputTokens` of input.
    package func rates(forInputTokens inputTokens: Int) -> Rates {
        tiers.last { inputTokens > $0.aboveInputTokens }?.rates ?? rates
    }

    package static func == (a: ModelPrice, b: ModelPrice) -> Bool {
        a.rates == b.rates && a.maxOutputTokens == b.maxOutputTokens && a.tiers.count == b.tiers.count
            && zip(a.tiers, b.tiers).allSatisfy { $0.aboveInputTokens == $1.aboveInputTokens && $0.rates == $1.rates }
    }
}

/// The model price list (`pricing.json`, SPEC §6), with SPEC's matching rules.
package struct PricingTable: Sendable {
    package struct LoadError: Error, CustomStringConvertible {
        package var description: String
    }

    package let version: String
    package let models: [String: ModelPrice]
    package let aliases: [String: String]

    /// Parses the pricing file's JSON. Prices are decimal strings in USD per 1M tokens.
    package init(json: Data) throws {
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any],
            let entries = root["models"] as? [String: Any]
        else { throw LoadError(description: "pricing file must be an object with a 'models' object") }
        version = root["version"] as? String ?? "unversioned"
        aliases = root["aliases"] as? [String: String] ?? [:]
        var models: [String: ModelPrice] = [:]
        for (name, value) in entries {
            guard let entry = value as? [String: Any] else {
                throw LoadError(description: "model '\(name)' must be an object")
            }
            let rates = try Self.rates(entry, model: name, fallback: nil)
            var tiers: [(Int, ModelPrice.Rates)] = []
            for tier in entry["tiers"] as? [[String: Any]] ?? [] {
                guard let above = tier["above_input_tokens"] as? Int else {
                    throw LoadError(description: "model '\(name)': every tier needs above_input_tokens")
                }
                tiers.append((above, try Self.rates(tier, model: name, fallback: rates)))
            }
            models[name] = ModelPrice(
                rates: rates, tiers: tiers.sorted { $0.0 < $1.0 }, maxOutputTokens: entry["max_output_tokens"] as? Int)
        }
        self.models = models
    }

    package init(text: String) throws { try self.init(json: Data(text.utf8)) }

    /// The built-in copy compiled into the binary.
    package static func builtIn() -> PricingTable {
        // The generated file is checked by tests; failing here means the build shipped a broken copy.
        try! PricingTable(text: BuiltInPricing.json)
    }

    /// Finds a model's price: exact name, then alias, then without a date suffix
    /// (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-5-20250929`, `…@20240620`),
    /// then without Gemini's `models/` prefix. Returns the name that matched.
    package func lookup(_ model: String) -> (name: String, price: ModelPrice)? {
        var name = model
        if name.hasPrefix("models/") { name.removeFirst("models/".count) }
        if let price = models[name] { return (name, price) }
        if let target = aliases[name], let price = models[target] { return (target, price) }
        if let base = Self.withoutDateSuffix(name) {
            if let price = models[base] { return (base, price) }
            if let target = aliases[base], let price = models[target] { return (target, price) }
        }
        return nil
    }

    /// `name` without a trailing `-YYYY-MM-DD`, `-YYYYMMDD` or `@YYYYMMDD`, or nil if it has none.
    static func withoutDateSuffix(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { bytes[$0] >= 48 && bytes[$0] <= 57 } }
        let n = bytes.count
        if n > 11, bytes[n - 11] == UInt8(ascii: "-"), bytes[n - 6] == UInt8(ascii: "-"), bytes[n - 3] == UInt8(ascii: "-"),
            digits(n - 10..<n - 6), digits(n - 5..<n - 3), digits(n - 2..<n)
        {
            return String(decoding: bytes[..<(n - 11)], as: UTF8.self)
        }
        if n > 9, bytes[n - 9] == UInt8(ascii: "-") || bytes[n - 9] == UInt8(ascii: "@"), digits(n - 8..<n) {
            return String(decoding: bytes[..<(n - 9)], as: UTF8.self)
        }
        return nil
    }

    private static func rates(_ entry: [String: Any], model: String, fallback: ModelPrice.Rates?) throws -> ModelPrice.Rates {
        func price(_ key: String) throws -> Int64? {
            guard let value = entry[key], !(value is NSNull) else { return nil }
            guard let text = value as? String, let micro = DecimalParser.scaled(text, decimals: 6), micro >= 0 else {
                throw LoadError(description: "model '\(model)': \(key) must be a decimal string with at most 6 decimals, e.g. \"2.50\"")
            }
            return micro
        }
        guard let input = try price("input") ?? fallback?.input else {
            throw LoadError(description: "model '\(model)' has no input price")
        }
        let output = try price("output") ?? fallback?.output ?? 0
        return ModelPrice.Rates(
            input: input, output: output, cachedInput: try price("cached_input") ?? fallback?.cachedInput ?? input,
            cacheWrite: try price("cache_write") ?? fallback?.cacheWrite ?? input)
    }
}
