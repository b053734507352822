import Hummingbird
import TollgateCore

/// `GET /admin/pricing` and `POST /admin/pricing/reload` (SPEC §6, §9).
struct PricingRoutes: Sendable {
    let pricing: PricingStore

    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/admin/pricing") { request, context in
            var o = Self.describe(pricing)
            o.add("data", objects: Self.list(pricing.current, provider: request.uri.queryParameters["provider"].map(String.init),
                model: request.uri.queryParameters["model"].map(String.init)))
            return AdminResponse.json(o.string)
        }
        router.post("/admin/pricing/reload") { request, context in
            let principal = try context.requirePrincipal()
            return try reload(by: principal)
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
        var o = Self.describe(pricing)
        o.add("previous_version", before)
        return AdminResponse.json(o.string)
    }

    /// The models with their prices, sorted by name; `provider` matches exactly, `model` is a glob
    /// (`gpt-4o*`). Rates are USD per million tokens, exact.
    static func list(_ table: PricingTable, provider: String?, model: String?) -> [JSONObject] {
        var aliases: [String: [String]] = [:]
        for (alias, target) in table.aliases { aliases[target, default: []].append(alias) }
        return table.models.keys.sorted().compactMap { name in
            let price = table.models[name]!
            if let provider, price.provider?.lowercased() != provider.lowercased() { return nil }
            if let model, !Glob.allows([model], name) { return nil }
            var o = JSONObject()
            o.add("model", name)
            o.add("provider", price.provider)
            rates(price.rates, into: &o)
            o.add("max_output_tokens", price.maxOutputTokens)
            o.add("tiers", objects: price.tiers.map { tier in
                var t = JSONObject()
                t.add("above_input_tokens", tier.aboveInputTokens)
                rates(tier.rates, into: &t)
                return t
            })
            o.add("aliases", (aliases[name] ?? []).sorted())
            return o
        }
    }

    private static func rates(_ rates: ModelPrice.Rates, into o: inout JSONObject) {
        // A rate is pico-dollars per token: USD per million tokens with six decimals.
        o.addRaw("input_per_mtok", Money.decimalString(rates.input, decimals: 6))
        o.addRaw("output_per_mtok", Money.decimalString(rates.output, decimals: 6))
        o.addRaw("cached_input_per_mtok", Money.decimalString(rates.cachedInput, decimals: 6))
        o.addRaw("cache_write_per_mtok", Money.decimalString(rates.cacheWrite, decimals: 6))
    }

    static func describe(_ pricing: PricingStore) -> JSONObject {
        let table = pricing.current
        var o = JSONObject()
        o.add("version", table.version)
        o.add("source", pricing.source)
        o.add("models", table.models.count)
        o.add("aliases", table.aliases.count)
        return o
    }
}
