import HTTPTypes
import Hummingbird
import TollgateCore

/// Bearer auth for the admin API (SPEC §9): `TOLLGATE_ADMIN_KEY` sees everything; a Tollgate key
/// with role `admin` sees its own org.
///
/// With neither presented and no admin key configured, every admin endpoint answers 403 saying how
/// to enable it; a wrong or missing token is 401; a client-role Tollgate key is 403.
struct AdminAuth: Sendable {
    let adminKey: String?
    /// Resolves Tollgate keys (nil in tests that run without access control).
    let access: AccessControl?

    /// The caller, or the refusal to answer with.
    func principal(_ request: Request) throws(AdminError) -> AdminPrincipal {
        let token = ClientToken(header: { name in HTTPField.Name(name).flatMap { request.headers[$0] } })
        return try principal(token: token?.value)
    }

    /// The caller a raw token names: a bearer header's value, or the key typed into the
    /// dashboard's sign-in form (nil: none presented).
    func principal(token: String?) throws(AdminError) -> AdminPrincipal {
        if let token, token.hasPrefix("tg_"), let key = access?.key(secret: token) {
            return try principal(key)
        }
        guard let adminKey else {
            throw AdminError(
                .forbidden, code: "admin_disabled",
                "The admin API is disabled. Start Tollgate with TOLLGATE_ADMIN_KEY=<secret> (or admin_key in the config file) and send it as Authorization: Bearer <secret>.")
        }
        guard let token, Self.constantTimeEquals(token, adminKey) else {
            throw AdminError(.unauthorized, code: "invalid_api_key", "Send the admin key as Authorization: Bearer <TOLLGATE_ADMIN_KEY>, or an admin-role Tollgate key.")
        }
        return .master
    }

    /// The org admin the Tollgate key with this SHA-256 still is: a dashboard session rechecks it
    /// on every page, so revoking or demoting the key ends its sessions.
    func principal(keyHash: String) throws(AdminError) -> AdminPrincipal {
        guard let key = access?.key(hash: keyHash) else {
            throw AdminError(.unauthorized, code: "invalid_api_key", "This Tollgate key no longer exists.")
        }
        return try principal(key)
    }

    private func principal(_ key: TollgateKey) throws(AdminError) -> AdminPrincipal {
        if let refusal = key.refusal(atMs: access?.clock() ?? 0) {
            throw AdminError(.unauthorized, code: "invalid_api_key", refusal)
        }
        guard key.role == .admin else {
            throw AdminError(.forbidden, code: "forbidden", "This Tollgate key has role 'client'; the admin API needs an admin key (role 'admin', or TOLLGATE_ADMIN_KEY).")
        }
        return .orgAdmin(key.org)
    }

    /// Runs `body` for an authenticated caller, answering admin errors in the admin API's shape.
    func guarded(_ request: Request, _ body: (AdminPrincipal) async throws -> Response) async throws -> Response {
        do {
            return try await body(try principal(request))
        } catch let error as AdminError {
            return AdminResponse.error(error)
        }
    }

    /// Compares without an early exit, so timing does not reveal how much of the key matched.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Digest.sha256(a.utf8)
        let y = Digest.sha256(b.utf8)
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }
}
