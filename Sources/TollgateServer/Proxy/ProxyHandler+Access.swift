import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// The access stages: who is calling, and whether the key's allow-list, rate limits and the
/// budgets covering the request let it through (SPEC §3, §7, §9).
extension ProxyHandler {
    /// Who is calling (SPEC §3): a Tollgate key (looked up in memory by its hash; the provider
    /// credential replaces it upstream) or the client's own provider key, passed through.
    func identify(_ request: Request, route: ProviderRouter.Route, _ exchange: inout Exchange) throws {
        let headers = request.headers
        let refinements = try AttributionHeaders(
            headers: headers.lazy.map { ($0.name.canonicalName, $0.value) }, maxLength: settings.maxAttributionLength)
        let token = ClientToken { name in HTTPField.Name(name).flatMap { headers[$0] } }
        guard let token else {
            throw RequestError(.invalidAPIKey, "No API key was sent. Send your provider key or a Tollgate key (tg_…) as your SDK does: Authorization: Bearer, x-api-key or x-goog-api-key.")
        }
        if token.isTollgateKey {
            guard let key = access.key(secret: token.value) else {
                throw RequestError(.invalidAPIKey, "Unknown Tollgate key. Check the key, or ask your admin for one (`tollgate keys create`).")
            }
            if let refusal = key.refusal(atMs: access.clock()) { throw RequestError(.invalidAPIKey, refusal) }
            exchange.key = key
            exchange.attribution = Attribution(
                org: key.org, keyID: key.id, team: key.team, user: refinements.user, department: key.department,
                session: refinements.session, tags: refinements.tags)
            access.noteUse(of: key)
            guard route.provider.apiKey != nil else {
                let setting = "TOLLGATE_\(route.provider.name.uppercased())_API_KEY"
                throw RequestError(.providerNotConfigured, "Tollgate has no credential for provider '\(route.provider.name)'. Set \(setting) (or providers.\(route.provider.name).api_key in the config file) on the server.")
            }
            return
        }
        guard settings.allowPassthrough else {
            throw RequestError(.invalidAPIKey, "Provider keys are not accepted here (passthrough is disabled). Use a Tollgate key (tg_…) from your admin.")
        }
        let org = refinements.org ?? "default"
        guard access.noteOrg(org, limit: settings.maxOrgs) else {
            throw RequestError.invalidRequest("Org '\(org)' does not exist and Tollgate already has \(settings.maxOrgs) orgs (limits.max_orgs). Use an existing org in X-Tollgate-Org, or ask your admin to create it.")
        }
        exchange.attribution = Attribution(
            org: org, keyID: token.passthroughKeyID, user: refinements.user,
            session: refinements.session, tags: refinements.tags)
    }

    /// Which paths a Tollgate key may reach (`KeyPathPolicy`): refuses the rest before the body is
    /// read. True when the path is billable but unmetered and allowed for this key by config.
    func police(_ route: ProviderRouter.Route, _ exchange: Exchange) throws -> Bool {
        guard let key = exchange.key else { return false }
        switch settings.keyPaths.verdict(keyID: key.id, format: route.provider.format, endpoint: route.endpoint, path: route.path) {
        case .allowed: return false
        case .allowedUnmetered: return true
        case .refused:
            throw RequestError(
                .endpointNotAllowed,
                "Tollgate keys may not call '\(route.path)': Tollgate cannot meter it, so it would bypass this key's budget. Use a metered endpoint, or ask your admin to allow it for this key (keys.unmetered_paths).")
        }
    }

    /// SPEC §9's checks before anything is forwarded, in order: model allow-list → rate limit →
    /// budget. A budget reserves the request's worst case (input estimated from the body, output
    /// from its cap or the model's output limit); `record` settles it. An unmetered path a key
    /// was allowed answers to the key's model list (the body's `model`, when it is JSON) and is
    /// refused while a budget covering it has no headroom left.
    func admit(
        _ inspection: RequestInspection, route: ProviderRouter.Route, unmetered: Bool, body: ByteBuffer,
        _ exchange: inout Exchange
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
            try reserve(worstCaseNanos: 1, &exchange)
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
                exchange.admittedTokens = tokens
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
        try reserve(worstCaseNanos: worstCase, &exchange)
    }

    private func reserve(worstCaseNanos: Int64, _ exchange: inout Exchange) throws {
        guard !access.ledger.isEmpty else { return }
        let a = exchange.attribution
        do {
            exchange.reservation = try access.ledger.reserve(
                BudgetSubject.covering(org: a.org, team: a.team, keyID: a.keyID), worstCaseNanos: worstCaseNanos)
        } catch {
            throw RequestError(.budgetExceeded, error.message)
        }
    }
}
