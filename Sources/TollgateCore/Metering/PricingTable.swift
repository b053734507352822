import Foundation

/// The model price list (`pricing.json`, SPEC §6) and its matching rules.
///
/// Immutable once loaded; a reload builds a new table and swaps it in whole.
package struct PricingTable: Sendable {
    /// Why a pricing file was refused; the message names the model and field.
    package struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        package var description: String

        package init(_ description: String) { self.description = description }
    }

    /// Recorded with every priced usage event (`pricing_version`).
    package let version: String
    /// Where the prices came from, as the file says.
    package let source: String?
    /// The date the file says it was last updated.
    package let updated: String?
    package let models: [String: ModelPrice]
    /// Other names for listed models; every target is in `models`.
    package let aliases: [String: String]

    package init(
        version: String, models: [String: ModelPrice], aliases: [String: String] = [:], source: String? = nil,
        updated: String? = nil
    ) throws {
        for (alias, target) in aliases where models[target] == nil {
            throw LoadError("alias '\(alias)' points to '\(target)', which is not in models")
        }
        self.version = version
        self.models = models
        self.aliases = aliases
        self.source = source
        self.updated = updated
    }

    /// Parses the pricing file's JSON (schema in docs/pricing.md). Prices are decimal strings in
    /// USD per 1M tokens with at most 6 decimals; anything else is refused with a message saying
    /// which model and field, so a typo never prices a request wrongly.
    package init(json: Data) throws {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw LoadError("the pricing file must be a JSON object with a \"models\" object")
            }
            root = object
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError("the pricing file is not valid JSON: \(JSONErrorText.describe(error))")
        }
        guard let entries = root["models"] as? [String: Any] else {
            throw LoadError("the pricing file has no \"models\" object")
        }
        guard let version = root["version"] as? String, !version.isEmpty else {
            throw LoadError("the pricing file has no \"version\" string (e.g. \"2026-11-21.1\")")
        }
        var models: [String: ModelPrice] = [:]
        models.reserveCapacity(entries.count)
        for (name, value) in entries {
            guard let entry = value as? [String: Any] else { throw LoadError("model '\(name)' must be an object") }
            models[name] = try Self.price(entry, model: name)
        }
        var aliases: [String: String] = [:]
        if let raw = root["aliases"], !(raw is NSNull) {
            guard let object = raw as? [String: Any] else { throw LoadError("\"aliases\" must be an object of strings") }
            for (alias, target) in object {
                guard let target = target as? String else { throw LoadError("alias '\(alias)' must name a model") }
                aliases[alias] = target
            }
        }
        try self.init(
            version: version, models: models, aliases: aliases, source: root["source"] as? String,
            updated: root["updated"] as? String)
    }

    package init(text: String) throws { try self.init(json: Data(text.utf8)) }

    /// The copy compiled into the binary (generated from pricing.json by scripts/convert_pricing.py).
    package static func builtIn() -> PricingTable {
        // Tests load the same text; failing here means the build shipped a broken copy.
        try! PricingTable(text: BuiltInPricing.json)
    }

    // MARK: Matching

    /// Finds a model's price by SPEC §6's rules; returns the listed name that matched.
    ///
    /// In order: the exact name, an alias, the name without a date suffix (`gpt-4o-2024-08-06` →
    /// `gpt-4o`, `claude-sonnet-4-5-20250929`, `…@20240620`, `gpt-4-0613`) exactly or by alias;
    /// then the same again with the leading path segment removed (`models/gemini-2.5-pro`,
    /// OpenRouter's `openai/gpt-4o`). With `provider`, a `provider/name` entry is tried before
    /// each bare name, so a model two providers serve at different prices finds the right one.
    /// Names are compared as given (case-sensitive).
    package func lookup(_ model: String, provider: String? = nil) -> (name: String, price: ModelPrice)? {
        var candidate = Substring(model)
        while !candidate.isEmpty {
            if let hit = match(candidate, provider: provider) { return hit }
            if let base = ModelName.withoutDateSuffix(candidate), let hit = match(base, provider: provider) { return hit }
            if let bare = ModelName.withoutCloudDecorations(candidate) {
                if let hit = match(bare, provider: provider) { return hit }
                if let base = ModelName.withoutDateSuffix(bare), let hit = match(base, provider: provider) { return hit }
            }
            guard let slash = candidate.firstIndex(of: "/") else { return nil }
            candidate = candidate[candidate.index(after: slash)...]
        }
        return nil
    }

    /// `name` without a trailing date, or nil if it has none (see `ModelName.withoutDateSuffix`).
    static func withoutDateSuffix(_ name: String) -> String? {
        ModelName.withoutDateSuffix(Substring(name)).map(String.init)
    }

    private func match(_ name: Substring, provider: String?) -> (name: String, price: ModelPrice)? {
        let bare = String(name)
        if let provider {
            let qualified = provider + "/" + bare
            if let price = models[qualified] { return (qualified, price) }
            if let target = aliases[qualified], let price = models[target] { return (target, price) }
        }
        if let price = models[bare] { return (bare, price) }
        if let target = aliases[bare], let price = models[target] { return (target, price) }
        return nil
    }

    // MARK: Parsing

    private static func price(_ entry: [String: Any], model: String) throws -> ModelPrice {
        func micros(_ object: [String: Any], _ key: String, in place: String) throws -> Int64? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let text = value as? String else {
                throw LoadError("\(place): \(key) must be a decimal string such as \"2.50\", not a JSON number")
            }
            guard let micro = DecimalParser.scaled(text, decimals: 6), micro >= 0 else {
                throw LoadError("\(place): \(key) \"\(text)\" must be a non-negative decimal with at most 6 decimals")
            }
            return micro
        }
        func count(_ object: [String: Any], _ key: String, in place: String) throws -> Int? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let number = value as? NSNumber, let int = Int(exactly: number.doubleValue), int >= 0 else {
                throw LoadError("\(place): \(key) must be a non-negative whole number")
            }
            return int
        }

        let place = "model '\(model)'"
        guard let input = try micros(entry, "input", in: place) else { throw LoadError("\(place) has no input price") }
        let output = try micros(entry, "output", in: place) ?? 0
        let cached = try micros(entry, "cached_input", in: place)
        let write = try micros(entry, "cache_write", in: place)
        let base = ModelPrice.Rates(input: input, output: output, cachedInput: cached, cacheWrite: write)

        var tiers: [ModelPrice.Tier] = []
        if let raw = entry["tiers"], !(raw is NSNull) {
            guard let list = raw as? [Any] else { throw LoadError("\(place): tiers must be a list") }
            for (index, item) in list.enumerated() {
                let tierPlace = "\(place) tier \(index + 1)"
                guard let tier = item as? [String: Any] else { throw LoadError("\(tierPlace) must be an object") }
                guard let above = try count(tier, "above_input_tokens", in: tierPlace) else {
                    throw LoadError("\(tierPlace) needs above_input_tokens")
                }
                // A field a tier leaves out keeps the base's listed value; with none listed the
                // usual defaults apply to the tier's own input rate.
                let tierInput = try micros(tier, "input", in: tierPlace) ?? input
                let rates = ModelPrice.Rates(
                    input: tierInput, output: try micros(tier, "output", in: tierPlace) ?? output,
                    cachedInput: try micros(tier, "cached_input", in: tierPlace) ?? cached,
                    cacheWrite: try micros(tier, "cache_write", in: tierPlace))
                tiers.append(ModelPrice.Tier(aboveInputTokens: above, rates: rates))
            }
        }
        let provider = entry["provider"] as? String
        let maxOutput = try count(entry, "max_output_tokens", in: place)
        return ModelPrice(provider: provider, rates: base, tiers: tiers, maxOutputTokens: maxOutput)
    }
}

/// Model-name rules shared by lookups.
package enum ModelName {
    /// Bedrock's inference-profile regions (`us.anthropic.claude-…`) and model vendors (`anthropic.`).
    private static let bedrockRegions: Set<Substring> = ["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"]
    private static let bedrockVendors: Set<Substring> = [
        "anthropic", "meta", "amazon", "mistral", "cohere", "ai21", "deepseek", "openai", "qwen", "writer",
    ]

    /// The model a cloud's model id names, or nil if it has no such decoration: Bedrock's ARN,
    /// region and vendor prefixes and version suffix
    /// (`arn:…:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0` →
    /// `claude-3-7-sonnet-20250219`), Vertex's `-v2@20241022` (`claude-3-5-sonnet-v2@20241022` →
    /// `claude-3-5-sonnet`). The date, if any, is `withoutDateSuffix`'s to take.
    package static func withoutCloudDecorations(_ name: Substring) -> Substring? {
        var rest = name
        if rest.hasPrefix("arn:"), let slash = rest.lastIndex(of: "/") { rest = rest[rest.index(after: slash)...] }
        var parts = rest.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, bedrockRegions.contains(parts[0]), bedrockVendors.contains(parts[1]) {
            rest = parts[2]
        } else if parts.count >= 2, bedrockVendors.contains(parts[0]) {
            parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            rest = parts[1]
        }
        // Bedrock's `-v1:0` / `-v2:0`, Vertex's `@date` with the `-v2` before it; a `-vN` elsewhere is
        // part of a name (`deepseek-v3`).
        var versioned = false
        if let colon = rest.lastIndex(of: ":"), rest[rest.index(after: colon)...].allSatisfy(\.isNumber) {
            rest = rest[..<colon]
            versioned = true
        }
        if let at = rest.lastIndex(of: "@") {
            rest = rest[..<at]
            versioned = true
        }
        if versioned, let dash = rest.lastIndex(of: "-"), rest[rest.index(after: dash)...].first == "v",
            rest[rest.index(dash, offsetBy: 2)...].allSatisfy(\.isNumber), rest.index(dash, offsetBy: 2) < rest.endIndex
        {
            rest = rest[..<dash]
        }
        return rest == name || rest.isEmpty ? nil : rest
    }

    /// `name` without a trailing date, or nil if it has none: `-YYYY-MM-DD`
    /// (`gpt-4o-2024-08-06`), `-YYYYMMDD` (`claude-sonnet-4-5-20250929`), `@YYYYMMDD`
    /// (Vertex's `claude-3-5-sonnet@20240620`) or OpenAI's older `-MMDD` (`gpt-4-0613`).
    package static func withoutDateSuffix(_ name: Substring) -> Substring? {
        let bytes = Array(name.utf8)
        let n = bytes.count
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { bytes[$0] >= 48 && bytes[$0] <= 57 } }
        // Cutting before an ASCII dash or @ always lands on a character boundary.
        func prefix(_ length: Int) -> Substring { name[..<name.utf8.index(name.startIndex, offsetBy: length)] }
        let dash = UInt8(ascii: "-")
        if n > 11, bytes[n - 11] == dash, bytes[n - 6] == dash, bytes[n - 3] == dash,
            digits(n - 10..<n - 6), digits(n - 5..<n - 3), digits(n - 2..<n)
        {
            return prefix(n - 11)
        }
        if n > 9, bytes[n - 9] == dash || bytes[n - 9] == UInt8(ascii: "@"), digits(n - 8..<n) {
            return prefix(n - 9)
        }
        if n > 5, bytes[n - 5] == dash, digits(n - 4..<n) {
            return prefix(n - 5)
        }
        return nil
    }
}

/// Readable text for Foundation's JSON errors (the parser's own detail when it gives one).
package enum JSONErrorText {
    package static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return nsError.localizedDescription
    }
}
