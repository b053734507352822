import Foundation

/// Reads the community model price map in LiteLLM's format (`model_prices_and_context_window.json`,
/// which many teams already maintain) into `pricing.json` entries, for `tollgate pricing import`.
///
/// The same selection as `scripts/convert_pricing.py`, which built the shipped file from it: the
/// models of providers Tollgate routes to (`providers`), text modes only (chat, completion,
/// responses, embedding), names without LiteLLM's provider prefix (`gemini/gemini-2.5-pro` →
/// `gemini-2.5-pro`). Prices go from USD per token to decimal strings of USD per million tokens,
/// exactly: the numbers are read from their JSON text as `Decimal`, never as binary floats, and
/// rounded to the file's 6 decimals; `*_above_<N>k_tokens` prices become tiers.
package enum LiteLLMPriceMap {
    /// One model's prices in `pricing.json`'s form (USD per 1M tokens as decimal strings).
    package struct Entry: Sendable, Equatable {
        package var provider: String
        package var input: String
        package var output: String
        package var cachedInput: String?
        package var cacheWrite: String?
        package var maxOutputTokens: Int?
        package var tiers: [Tier] = []

        package struct Tier: Sendable, Equatable {
            package var aboveInputTokens: Int
            package var input: String
            package var output: String?
            package var cachedInput: String?
            package var cacheWrite: String?
        }

        /// The entry as one line of `pricing.json`: `{"provider": …, "input": …, …}`.
        package var json: String {
            var members = [("provider", JSONText.quoted(provider)), ("input", JSONText.quoted(input)), ("output", JSONText.quoted(output))]
            if let cachedInput { members.append(("cached_input", JSONText.quoted(cachedInput))) }
            if let cacheWrite { members.append(("cache_write", JSONText.quoted(cacheWrite))) }
            if let maxOutputTokens { members.append(("max_output_tokens", String(maxOutputTokens))) }
            if !tiers.isEmpty {
                let list = tiers.map { tier in
                    var fields = [("above_input_tokens", String(tier.aboveInputTokens)), ("input", JSONText.quoted(tier.input))]
                    if let output = tier.output { fields.append(("output", JSONText.quoted(output))) }
                    if let cached = tier.cachedInput { fields.append(("cached_input", JSONText.quoted(cached))) }
                    if let write = tier.cacheWrite { fields.append(("cache_write", JSONText.quoted(write))) }
                    return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
                }
                members.append(("tiers", "[" + list.joined(separator: ", ") + "]"))
            }
            return "{" + members.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
    }

    /// LiteLLM's provider → (Tollgate's provider, the prefix LiteLLM puts on its model names).
    package static let providers: [String: (provider: String, prefix: String)] = [
        "openai": ("openai", ""), "text-completion-openai": ("openai", ""), "anthropic": ("anthropic", ""),
        "gemini": ("gemini", "gemini/"), "xai": ("xai", "xai/"), "deepseek": ("deepseek", "deepseek/"),
        "mistral": ("mistral", "mistral/"), "groq": ("groq", "groq/"), "together_ai": ("together", "together_ai/"),
        "fireworks_ai": ("fireworks", "fireworks_ai/"), "azure": ("azure", "azure/"),
    ]
    static let modes: Set<String> = ["chat", "completion", "embedding", "responses"]

    /// What a map holds for Tollgate: entries by model name, and how many of its entries were left
    /// out (another provider or mode, no input price, or not readable).
    package struct Result: Sendable {
        package var entries: [String: Entry] = [:]
        package var skipped = 0
    }

    package struct ReadError: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    package static func read(_ data: Data) throws(ReadError) -> Result {
        let decoded: [String: Lenient]
        do {
            decoded = try JSONDecoder().decode([String: Lenient].self, from: data)
        } catch {
            throw ReadError(description: "not a LiteLLM price map (a JSON object of models): \(JSONErrorText.describe(error))")
        }
        let raw = decoded.compactMapValues(\.entry)
        var result = Result()
        result.skipped = decoded.count
        for (key, entry) in raw.sorted(by: { $0.key < $1.key }) {
            guard let litellm = entry.provider, let (provider, prefix) = providers[litellm],
                let mode = entry.mode, modes.contains(mode), let input = entry.costs["input_cost_per_token"],
                key.hasPrefix(prefix), key.count > prefix.count,
                let inputText = perMillion(input)
            else { continue }
            // A name two keys share (`gpt-4o` and `azure/gpt-4o`) keeps the price of the first key in name order.
            let name = String(key.dropFirst(prefix.count))
            guard result.entries[name] == nil else { continue }
            var converted = Entry(
                provider: provider, input: inputText, output: entry.costs["output_cost_per_token"].flatMap(perMillion) ?? "0.00",
                cachedInput: entry.costs["cache_read_input_token_cost"].flatMap(perMillion),
                cacheWrite: entry.costs["cache_creation_input_token_cost"].flatMap(perMillion),
                maxOutputTokens: entry.maxOutputTokens)
            for (field, value) in entry.costs {
                guard let thousands = tierThousands(field), let tierInput = perMillion(value) else { continue }
                let suffix = "_above_\(thousands)k_tokens"
                converted.tiers.append(Entry.Tier(
                    aboveInputTokens: thousands * 1000, input: tierInput,
                    output: entry.costs["output_cost_per_token" + suffix].flatMap(perMillion),
                    cachedInput: entry.costs["cache_read_input_token_cost" + suffix].flatMap(perMillion),
                    cacheWrite: entry.costs["cache_creation_input_token_cost" + suffix].flatMap(perMillion)))
            }
            converted.tiers.sort { $0.aboveInputTokens < $1.aboveInputTokens }
            result.entries[name] = converted
        }
        result.skipped -= result.entries.count
        return result
    }

    /// USD per token → USD per 1M tokens, rounded half-even to 6 decimals, written with 2 to 6
    /// decimals (`2.5e-06` → `"2.50"`); nil for a negative or absurd price.
    static func perMillion(_ perToken: Decimal) -> String? {
        var scaled = perToken * 1_000_000
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 6, .bankers)
        guard rounded >= 0, rounded < 1_000_000_000 else { return nil }
        let micros = NSDecimalNumber(decimal: rounded * 1_000_000).int64Value
        let text = Money.decimalString(micros, decimals: 6)
        guard let dot = text.firstIndex(of: ".") else { return text + ".00" }
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        return decimals >= 2 ? text : text + "0"
    }

    /// `N` of `input_cost_per_token_above_<N>k_tokens`.
    private static func tierThousands(_ field: String) -> Int? {
        let head = "input_cost_per_token_above_", tail = "k_tokens"
        guard field.hasPrefix(head), field.hasSuffix(tail) else { return nil }
        return Int(field.dropFirst(head.count).dropLast(tail.count))
    }

    /// One model's fields Tollgate reads; cost fields are every `*cost*` number, as text-exact `Decimal`.
    fileprivate struct RawEntry {
        var provider: String?
        var mode: String?
        var maxOutputTokens: Int?
        var costs: [String: Decimal] = [:]
    }

    /// Decodes any entry: one whose fields have unexpected types (LiteLLM's `sample_spec`) is nil,
    /// not a failure of the whole map.
    private struct Lenient: Decodable {
        var entry: RawEntry?

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            guard let container = try? decoder.container(keyedBy: Key.self) else { return }
            var entry = RawEntry()
            for key in container.allKeys {
                switch key.stringValue {
                case "litellm_provider": entry.provider = try? container.decode(String.self, forKey: key)
                case "mode": entry.mode = try? container.decode(String.self, forKey: key)
                case "max_output_tokens": entry.maxOutputTokens = try? container.decode(Int.self, forKey: key)
                case "max_tokens": if entry.maxOutputTokens == nil { entry.maxOutputTokens = try? container.decode(Int.self, forKey: key) }
                case let name where name.contains("cost"):
                    if let value = try? container.decode(Decimal.self, forKey: key) { entry.costs[name] = value }
                default: continue
                }
            }
            self.entry = entry
        }
    }
}
