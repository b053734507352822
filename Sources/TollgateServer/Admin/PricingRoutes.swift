import Hummingbird

/// `GET /admin/pricing` and `POST /admin/pricing/reload` (SPEC §6, §9).
struct PricingRoutes: Sendable {
    let auth: AdminAuth
    let pricing: PricingStore

    func register(on router: Router<TollgateRequestContext>) {
        router.get("/admin/pricing") { request, context in
            try await auth.guarded(request, context: context) { _ in AdminResponse.json(Self.describe(pricing).string) }
        }
        router.post("/admin/pricing/reload") { request, context in
            try await auth.guarded(request, context: context) { principal in try reload(by: principal) }
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
