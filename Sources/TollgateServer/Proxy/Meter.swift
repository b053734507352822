import TollgateCore

/// The pricing stage: turns usage into exact cost with the current pricing table.
package struct Meter: Sendable {
    package let pricing: PricingStore

    package init(pricing: PricingStore) {
        self.pricing = pricing
    }

    /// The model's price in the current table, nil when unknown.
    func lookup(_ model: String, provider: String) -> ModelPrice? {
        pricing.current.lookup(model, provider: provider)?.1
    }

    /// Prices `usage` for `model`; an unknown model is recorded unpriced, never silently free.
    package func price(_ usage: Usage, model: String, provider: String) -> (cost: Cost, version: String) {
        let table = pricing.current
        guard let (_, price) = table.lookup(model, provider: provider) else { return (.unpriced, table.version) }
        return (CostCalculator.cost(usage, price: price), table.version)
    }
}

extension Meter {
    /// `event` with its money recomputed from its tokens with the current table (`tollgate db
    /// reprice`): cost, potential cost (a cache hit keeps cost 0 and re-prices what it saved),
    /// prompt-cache savings, charged with `markup`, priced flag and pricing version. Events that
    /// never reached a provider keep their zeros.
    package func reprice(_ event: UsageEvent, markup: Markup) -> UsageEvent {
        guard event.endpoint.isMetered, event.outcome == .ok || event.usage != .zero else { return event }
        var out = event
        let (cost, version) = price(event.usage, model: event.model, provider: event.provider)
        out.potentialCostNanos = cost.costNanos
        out.costNanos = event.cached ? 0 : cost.costNanos
        out.promptCacheSavingsNanos = event.cached ? 0 : cost.promptCacheSavingsNanos
        out.chargedNanos = CostCalculator.charged(out.costNanos, markup: markup)
        out.priced = cost.priced
        out.pricingVersion = version
        return out
    }
}
