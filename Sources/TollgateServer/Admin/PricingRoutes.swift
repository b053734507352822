import Hummingbird

/// `GET /admin/pricing` and `POST /admin/pricing/reload` (SPEC §6, §9).
struct PricingRoutes: Sendable {
    let auth: AdminAuth
    let pricing: PricingStore

    func register(on router: Router<BasicRequestContext>) {
        router.get("/admin/pricing") { request, _ in
            if let refusal = auth.check(request) { return refusal }
            return AdminResponse.json(Self.describe(pricing).string)
        }
        router.post("/admin/pricing/reload") { request, _ in
            if let refusal = auth.check(request) { return refusal }
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
