import Foundation
import Hummingbird
import NIOCore

/// `/admin/orgs`, `/admin/keys`, `/admin/budgets` and `/admin/alerts` (SPEC §9): create 201,
/// read/list/update 200, revoke/delete 200 with the record.
struct AccessRoutes: Sendable {
    let admin: AccessAdmin

    func register(on router: RouterGroup<TollgateRequestContext>) {
        resource(router, "orgs", create: { a, i, p in try await a.createOrg(i, by: p) }, list: { a, _, p in try await a.listOrgs(by: p) },
                 read: { a, id, p in try await a.org(id, by: p) }, update: { a, id, i, p in try await a.updateOrg(id, i, by: p) },
                 delete: { a, id, p in try await a.deleteOrg(id, by: p) })
        resource(router, "keys", create: { a, i, p in try await a.createKey(i, by: p) },
                 list: { a, q, p in try await a.listKeys(org: q["org"], cursor: q["cursor"], limit: try Self.limit(q), by: p) },
                 read: { a, id, p in try await a.key(id, by: p) }, update: { a, id, i, p in try await a.updateKey(id, i, by: p) },
                 delete: { a, id, p in try await a.revokeKey(id, by: p) })
        resource(router, "budgets", create: { a, i, p in try await a.createBudget(i, by: p) },
                 list: { a, q, p in try await a.listBudgets(org: q["org"], by: p) },
                 read: { a, id, p in try await a.budget(id, by: p) }, update: { a, id, i, p in try await a.updateBudget(id, i, by: p) },
                 delete: { a, id, p in try await a.deleteBudget(id, by: p) })
        router.delete("/admin/users/:user") { request, context in
            let (a, principal) = (admin.acting(as: try context.requireActor()), try context.requirePrincipal())
            let user = try context.parameters.require("user")
            return AdminResponse.json(try await a.eraseUser(user.removingPercentEncoding ?? user, org: QueryParameters(request)["org"], by: principal))
        }
        router.get("/admin/alerts") { request, context in
            let principal = try context.requirePrincipal()
            let q = QueryParameters(request)
            return AdminResponse.json(try await admin.listAlerts(org: q["org"], budgetID: q["budget_id"], limit: try Self.limit(q), by: principal))
        }
    }

    /// The five routes of one resource; each runs as the request's caller, so changes are
    /// recorded in the audit log under its name (`AccessAdmin.acting(as:)`).
    private func resource<View: Codable & Sendable & Equatable>(
        _ router: RouterGroup<TollgateRequestContext>, _ name: String,
        create: @escaping @Sendable (AccessAdmin, AdminInput, AdminPrincipal) async throws -> View,
        list: @escaping @Sendable (AccessAdmin, QueryParameters, AdminPrincipal) async throws -> ListAnswer<View>,
        read: @escaping @Sendable (AccessAdmin, String, AdminPrincipal) async throws -> View,
        update: @escaping @Sendable (AccessAdmin, String, AdminInput, AdminPrincipal) async throws -> View,
        delete: @escaping @Sendable (AccessAdmin, String, AdminPrincipal) async throws -> View
    ) {
        let admin = self.admin
        router.post("/admin/\(name)") { request, context in
            let (a, principal) = (admin.acting(as: try context.requireActor()), try context.requirePrincipal())
            let input = try await Self.input(request)
            return AdminResponse.json(try await create(a, input, principal), status: .created)
        }
        router.get("/admin/\(name)") { request, context in
            let (a, principal) = (admin.acting(as: try context.requireActor()), try context.requirePrincipal())
            return AdminResponse.json(try await list(a, QueryParameters(request), principal))
        }
        router.get("/admin/\(name)/:id") { request, context in
            let (a, principal) = (admin.acting(as: try context.requireActor()), try context.requirePrincipal())
            return AdminResponse.json(try await read(a, try context.parameters.require("id"), principal))
        }
        router.patch("/admin/\(name)/:id") { request, context in
            let (a, principal) = (admin.acting(as: try context.requireActor()), try context.requirePrincipal())
            let input = try await Self.input(request)
            return AdminResponse.json(try await update(a, try context.parameters.require("id"), input, principal))
        }
        router.delete("/admin/\(name)/:id") { request, context in
            let (a, principal) = (admin.acting(as: try context.requireActor()), try context.requirePrincipal())
            return AdminResponse.json(try await delete(a, try context.parameters.require("id"), principal))
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
