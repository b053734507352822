import Foundation
import Hummingbird
import TollgateCore

/// `GET /admin/pricing` and `POST /admin/pricing/reload` (SPEC §6, §9).
struct PricingRoutes: Sendable {
    let pricing: PricingStore
    let audit: AuditTrail

    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/admin/pricing") { request, context in
            let q = QueryParameters(request)
            var answer = Self.describe(pricing)
            answer.data = Self.list(pricing.current, provider: q["provider"], model: q["model"])
            return AdminResponse.json(answer)
        }
        router.post("/admin/pricing/reload") { request, context in
            let principal = try context.requirePrincipal()
            let response = try reload(by: principal)
            try await audit.record(
                "pricing.reload", by: try context.requireActor(), target: pricing.current.version,
                outcome: response.status == .ok ? "ok" : "failed")
            return response
        }
    }

    /// Pricing is shared by every org, so only the master key reloads it.
    private func reload(by principal: AdminPrincipal) throws -> Response {
        guard principal == .master else {
            throw AdminError(.forbidden, code: "forbidden", "Only the master admin key can reload pricing.")
        }
        let before = pricing.current.version
        do {
            try pricing.reload()
        } catch {
            return AdminResponse.error(.unprocessableContent, code: "invalid_pricing", "\(error)")
        }
        var answer = Self.describe(pricing)
        answer.previousVersion = before
        return AdminResponse.json(answer)
    }

    /// `GET /admin/pricing` (with `data`) and the reload's answer (with `previous_version`).
    struct Answer: Codable, Sendable, Equatable {
        var version: String
        var source: String
        var models: Int
        var aliases: Int
        var data: [ModelView]?
        var previousVersion: String?

        enum CodingKeys: String, CodingKey { case version, source, models, aliases, data, previousVersion = "previous_version" }
    }

    /// One model's prices: USD per million tokens, exact.
    struct ModelView: Codable, Sendable, Equatable {
        var model: String
        @Nullable var provider: String?
        var rates: Rates
        @Nullable var maxOutputTokens: Int?
        var tiers: [Tier]
        var aliases: [String]

        enum CodingKeys: String, CodingKey { case model, provider, maxOutputTokens = "max_output_tokens", tiers, aliases }

        init(model: String, provider: String?, rates: Rates, maxOutputTokens: Int?, tiers: [Tier], aliases: [String]) {
            (self.model, self.provider, self.rates, self.maxOutputTokens, self.tiers, self.aliases) = (model, provider, rates, maxOutputTokens, tiers, aliases)
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            model = try container.decode(String.self, forKey: .model)
            _provider = try container.decode(Nullable<String>.self, forKey: .provider)
            rates = try Rates(from: decoder)
            _maxOutputTokens = try container.decode(Nullable<Int>.self, forKey: .maxOutputTokens)
            tiers = try container.decode([Tier].self, forKey: .tiers)
            aliases = try container.decode([String].self, forKey: .aliases)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(model, forKey: .model)
            try container.encode(_provider, forKey: .provider)
            try rates.encode(to: encoder)
            try container.encode(_maxOutputTokens, forKey: .maxOutputTokens)
            try container.encode(tiers, forKey: .tiers)
            try container.encode(aliases, forKey: .aliases)
        }
    }

    struct Tier: Codable, Sendable, Equatable {
        var aboveInputTokens: Int
        var rates: Rates

        enum CodingKeys: String, CodingKey { case aboveInputTokens = "above_input_tokens" }

        init(aboveInputTokens: Int, rates: Rates) { (self.aboveInputTokens, self.rates) = (aboveInputTokens, rates) }

        init(from decoder: any Decoder) throws {
            aboveInputTokens = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .aboveInputTokens)
            rates = try Rates(from: decoder)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(aboveInputTokens, forKey: .aboveInputTokens)
            try rates.encode(to: encoder)
        }
    }

    /// A rate is pico-dollars per token: USD per million tokens with six decimals.
    struct Rates: Codable, Sendable, Equatable {
        var inputPerMtok: Decimal
        var outputPerMtok: Decimal
        var cachedInputPerMtok: Decimal
        var cacheWritePerMtok: Decimal

        enum CodingKeys: String, CodingKey {
            case inputPerMtok = "input_per_mtok", outputPerMtok = "output_per_mtok", cachedInputPerMtok = "cached_input_per_mtok"
            case cacheWritePerMtok = "cache_write_per_mtok"
        }

        init(_ rates: ModelPrice.Rates) {
            inputPerMtok = Decimal(scaled: rates.input, decimals: 6)
            outputPerMtok = Decimal(scaled: rates.output, decimals: 6)
            cachedInputPerMtok = Decimal(scaled: rates.cachedInput, decimals: 6)
            cacheWritePerMtok = Decimal(scaled: rates.cacheWrite, decimals: 6)
        }
    }

    /// The models with their prices, sorted by name; `provider` matches exactly, `model` is a glob
    /// (`gpt-4o*`).
    static func list(_ table: PricingTable, provider: String?, model: String?) -> [ModelView] {
        var aliases: [String: [String]] = [:]
        for (alias, target) in table.aliases { aliases[target, default: []].append(alias) }
        return table.models.keys.sorted().compactMap { name in
            let price = table.models[name]!
            if let provider, price.provider?.lowercased() != provider.lowercased() { return nil }
            if let model, !Glob.allows([model], name) { return nil }
            return ModelView(
                model: name, provider: price.provider, rates: Rates(price.rates), maxOutputTokens: price.maxOutputTokens,
                tiers: price.tiers.map { Tier(aboveInputTokens: $0.aboveInputTokens, rates: Rates($0.rates)) },
                aliases: (aliases[name] ?? []).sorted())
        }
    }

    static func describe(_ pricing: PricingStore) -> Answer {
        let table = pricing.current
        return Answer(version: table.version, source: pricing.source, models: table.models.count, aliases: table.aliases.count)
    }
}
