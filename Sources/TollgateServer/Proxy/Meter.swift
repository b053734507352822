import TollgateCore

/// The pricing stage: turns usage into exact cost with the current pricing table.
struct Meter: Sendable {
    let pricing: PricingStore

    /// The model's price in the current table, nil when unknown.
    func lookup(_ model: String, provider: String) -> ModelPrice? {
        pricing.current.lookup(model, provider: provider)?.1
    }

    /// Prices `usage` for `model`; an unknown model is recorded unpriced, never silently free.
    func price(_ usage: Usage, model: String, provider: String) -> (cost: Cost, version: String) {
        let table = pricing.current
        guard let (_, price) = table.lookup(model, provider: provider) else { return (.unpriced, table.version) }
        return (CostCalculator.cost(usage, price: price), table.version)
    }
}
