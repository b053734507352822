import NIOCore
import TollgateCore

/// SPEC §9's checks before anything is forwarded, in order: model allow-list → rate limit →
/// budget. What admission takes (a token-bucket charge, a budget reservation) is handed to the
/// request's `Settlement`, which gives it back with what the request actually used.
struct AdmitStage: Sendable {
    let access: AccessControl
    let meter: Meter
    let settings: ProxySettings

    /// A budget reserves the request's worst case (input estimated from the body, output from its
    /// cap or the model's output limit). An unmetered path a key was allowed answers to the key's
    /// model list (the body's `model`, when it is JSON) and is refused while a budget covering it
    /// has no headroom left.
    func admit(
        _ inspection: RequestInspection, route: ProviderRouter.Route, unmetered: Bool, body: ByteBuffer,
        _ exchange: inout Exchange, _ settlement: Settlement
    ) throws {
        if exchange.attribution.user == nil { exchange.attribution.user = exchange.key?.user }
        if unmetered, let key = exchange.key {
            let model = RequestInspector.model(in: body.readableBytesView)
            if !key.allowedModels.isEmpty {
                guard let model, Glob.allows(key.allowedModels, model) else {
                    throw RequestError(.modelNotAllowed, "This Tollgate key may not use model '\(model ?? "(none named)")' here (allowed: \(key.allowedModels.joined(separator: ", "))).")
                }
            }
            exchange.model = model ?? ""
            // Its cost is unknown: one nano-dollar makes a strict budget admit it only while
            // there is headroom left; settling with cost 0 gives it back.
            try reserve(worstCaseNanos: 1, exchange, settlement)
            return
        }
        guard route.endpoint.isMetered else { return }
        let model = exchange.model
        if let key = exchange.key {
            guard Glob.allows(key.allowedModels, model) else {
                throw RequestError(.modelNotAllowed, "This Tollgate key may not use model '\(model)' (allowed: \(key.allowedModels.joined(separator: ", "))). Use an allowed model or ask your admin.")
            }
            if key.rpmLimit != nil || key.tpmLimit != nil {
                let tokens = inspection.estimatedInputTokens
                if let wait = access.limiter.admit(keyID: key.id, rpm: key.rpmLimit, tpm: key.tpmLimit, estimatedTokens: tokens) {
                    let limits = [key.rpmLimit.map { "\($0) requests" }, key.tpmLimit.map { "\($0) tokens" }].compactMap { $0 }
                    throw RequestError(.rateLimitExceeded, "Rate limit reached for this key (\(limits.joined(separator: ", ")) per minute). Retry after \(wait) s.", retryAfter: wait)
                }
                settlement.hold(bucket: key, tokens: tokens)
            }
        }
        let price = meter.lookup(model, provider: exchange.provider)
        if price == nil, settings.blockUnpricedModels {
            throw RequestError(.modelNotPriced, "Model '\(model)' is not in the pricing file and pricing.unknown_model is 'block'. Add it to pricing.json, or use a priced model.")
        }
        guard !access.ledger.isEmpty else { return }
        let worstCase = price.map {
            CostCalculator.worstCaseNanos(inputTokens: inspection.estimatedInputTokens, outputCap: inspection.maxOutputTokens, price: $0)
        } ?? 0
        try reserve(worstCaseNanos: worstCase, exchange, settlement)
    }

    private func reserve(worstCaseNanos: Int64, _ exchange: Exchange, _ settlement: Settlement) throws {
        guard !access.ledger.isEmpty else { return }
        let a = exchange.attribution
        do {
            let reservation = try access.ledger.reserve(
                BudgetSubject.covering(org: a.org, team: a.team, user: a.user, department: a.department, keyID: a.keyID), worstCaseNanos: worstCaseNanos)
            if let reservation { settlement.hold(reservation) }
        } catch {
            throw RequestError(.budgetExceeded, error.message)
        }
    }
}
