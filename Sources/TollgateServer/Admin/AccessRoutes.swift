import Foundation
import Hummingbird
import NIOCore

/// `/admin/orgs`, `/admin/keys`, `/admin/budgets` and `/admin/alerts` (SPEC §9): create 201,
/// read/list/update 200, revoke/delete 200 with the record.
struct AccessRoutes: Sendable {
    let admin: AccessAdmin

    func register(on router: RouterGroup<TollgateRequestContext>) {
        resource(router, "orgs", create: admin.createOrg, list: { _, p in try await admin.listOrgs(by: p) },
                 read: admin.org, update: admin.updateOrg, delete: admin.deleteOrg)
        resource(router, "keys", create: admin.createKey,
                 list: { q, p in try await admin.listKeys(org: q["org"], cursor: q["cursor"], limit: try Self.limit(q), by: p) },
                 read: admin.key, update: admin.updateKey, delete: admin.revokeKey)
        resource(router, "budgets", create: admin.createBudget, list: { q, p in try await admin.listBudgets(org: q["org"], by: p) },
                 read: admin.budget, update: admin.updateBudget, delete: admin.deleteBudget)
        router.get("/admin/alerts") { request, context in
            let principal = try context.requirePrincipal()
            let q = QueryParameters(request)
            return AdminResponse.json(try await admin.listAlerts(org: q["org"], budgetID: q["budget_id"], limit: try Self.limit(q), by: principal))
        }
    }

    private func resource<View: Codable & Sendable & Equatable>(
        _ router: RouterGroup<TollgateRequestContext>, _ name: String,
        create: @escaping @Sendable (AdminInput, AdminPrincipal) async throws -> View,
        list: @escaping @Sendable (QueryParameters, AdminPrincipal) async throws -> ListAnswer<View>,
        read: @escaping @Sendable (String, AdminPrincipal) async throws -> View,
        update: @escaping @Sendable (String, AdminInput, AdminPrincipal) async throws -> View,
        delete: @escaping @Sendable (String, AdminPrincipal) async throws -> View
    ) {
        router.post("/admin/\(name)") { request, context in
            let principal = try context.requirePrincipal()
            let input = try await Self.input(request)
            return AdminResponse.json(try await create(input, principal), status: .created)
        }
        router.get("/admin/\(name)") { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await list(QueryParameters(request), principal))
        }
        router.get("/admin/\(name)/:id") { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await read(try context.parameters.require("id"), principal))
        }
        router.patch("/admin/\(name)/:id") { request, context in
            let principal = try context.requirePrincipal()
            let input = try await Self.input(request)
            return AdminResponse.json(try await update(try context.parameters.require("id"), input, principal))
        }
        router.delete("/admin/\(name)/:id") { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await delete(try context.parameters.require("id"), principal))
        }
    }

    static func input(_ request: Request) async throws -> AdminInput {
        let body = try await request.body.collect(upTo: 1 << 20)
        return try AdminInput(json: body.readableBytesView)
    }

    /// `limit`: 1…1000, default 100.
    static func limit(_ query: QueryParameters) throws(AdminError) -> Int {
        guard let text = query["limit"] else { return 100 }
        guard let limit = Int(text), (1...1000).contains(limit) else { throw AdminError.invalid("limit", "must be 1 to 1000.") }
        return limit
    }
}
