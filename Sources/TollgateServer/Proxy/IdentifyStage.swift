import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// Who is calling (SPEC §3), and whether their key may reach the path at all.
struct IdentifyStage: Sendable {
    let access: AccessControl
    let settings: ProxySettings

    /// Who is calling (SPEC §3): a Tollgate key (looked up in memory by its hash; the provider
    /// credential replaces it upstream) or the client's own provider key, passed through.
    /// Returns whether the path is billable but unmetered and allowed for this key by config (`police`).
    func identify(_ request: Request, route: ProviderRouter.Route, _ exchange: inout Exchange) throws -> Bool {
        let headers = request.headers
        let refinements = try AttributionHeaders(
            headers: headers.lazy.map { ($0.name.canonicalName, $0.value) }, maxLength: settings.maxAttributionLength)
        let token = ClientToken { name in HTTPField.Name(name).flatMap { headers[$0] } }
        guard let token else {
            throw RequestError(.invalidAPIKey, "No API key was sent. Send your provider key or a Tollgate key (tg_…) as your SDK does: Authorization: Bearer, x-api-key, x-goog-api-key or api-key.")
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
                let setting =
                    switch route.provider.format {
                    case .vertex: "TOLLGATE_VERTEX_CREDENTIALS (a service-account key)"
                    case .bedrock: "TOLLGATE_BEDROCK_ACCESS_KEY_ID and TOLLGATE_BEDROCK_SECRET_ACCESS_KEY (or TOLLGATE_BEDROCK_API_KEY)"
                    default: "TOLLGATE_\(route.provider.name.uppercased())_API_KEY"
                    }
                throw RequestError(.providerNotConfigured, "Tollgate has no credential for provider '\(route.provider.name)'. Set \(setting) (or providers.\(route.provider.name).api_key in the config file) on the server.")
            }
            return try police(route, exchange)
        }
        guard settings.allowPassthrough else {
            throw RequestError(.invalidAPIKey, "Provider keys are not accepted here (passthrough is disabled). Use a Tollgate key (tg_…) from your admin.")
        }
        let org = refinements.org ?? "default"
        guard access.noteOrg(org, limit: settings.maxOrgs) else {
            throw RequestError.invalidRequest("Org '\(org)' does not exist and Tollgate already has \(settings.maxOrgs) orgs (limits.max_orgs). Use an existing org in X-Tollgate-Org, or ask your admin to create it.")
        }
        exchange.attribution = Attribution(
            org: org, keyID: token.passthroughKeyID, team: refinements.team, user: refinements.user,
            department: refinements.department, session: refinements.session, tags: refinements.tags)
        return false
    }

    /// Which paths a Tollgate key may reach (`KeyPathPolicy`): refuses the rest before the body is
    /// read. True when the path is billable but unmetered and allowed for this key by config.
    private func police(_ route: ProviderRouter.Route, _ exchange: Exchange) throws -> Bool {
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
}
