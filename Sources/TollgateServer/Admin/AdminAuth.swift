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
    /// Failed sign-ins per address and requests per principal (nil: no limits).
    var throttle: AdminThrottle? = nil

    /// The caller, or the refusal to answer with (no limits applied).
    func principal(_ request: Request) throws(AdminError) -> AdminPrincipal {
        try caller(token: Self.token(request)).principal
    }

    /// The caller a raw token names: a bearer header's value, or the key typed into the
    /// dashboard's sign-in form (nil: none presented).
    func principal(token: String?) throws(AdminError) -> AdminPrincipal {
        try caller(token: token).principal
    }

    /// The caller a raw token names and the id its request allowance is counted under: `master`,
    /// or the admin key's id.
    func caller(token: String?) throws(AdminError) -> (principal: AdminPrincipal, id: String) {
        if let token, token.hasPrefix("tg_"), let key = access?.key(secret: token) {
            return (try principal(key), key.id)
        }
        guard let adminKey else {
            throw AdminError(
                .forbidden, code: "admin_disabled",
                "The admin API is disabled. Start Tollgate with TOLLGATE_ADMIN_KEY=<secret> (or admin_key in the config file) and send it as Authorization: Bearer <secret>.")
        }
        guard let token, Self.constantTimeEquals(token, adminKey) else {
            throw AdminError(.unauthorized, code: "invalid_api_key", "Send the admin key as Authorization: Bearer <TOLLGATE_ADMIN_KEY>, or an admin-role Tollgate key.")
        }
        return (.master, "master")
    }

    /// The org admin the Tollgate key with this SHA-256 still is: a dashboard session rechecks it
    /// on every page, so revoking or demoting the key ends its sessions.
    func principal(keyHash: String) throws(AdminError) -> AdminPrincipal {
        try caller(keyHash: keyHash).principal
    }

    func caller(keyHash: String) throws(AdminError) -> (principal: AdminPrincipal, id: String) {
        guard let key = access?.key(hash: keyHash) else {
            throw AdminError(.unauthorized, code: "invalid_api_key", "This Tollgate key no longer exists.")
        }
        return (try principal(key), key.id)
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

    /// Signs a caller in under the limits: an address that failed too often lately is refused (429)
    /// before its token is even looked at, so a right guess cannot be told from a wrong one; a
    /// refused token counts against its address (`countsAsGuess`; a right one takes nothing); a
    /// known caller then takes one request from its own allowance.
    func authenticate(token: String?, address: String) throws(AdminError) -> (principal: AdminPrincipal, id: String) {
        if let refusal = throttle?.refusingFailures(from: address) { throw refusal }
        let caller: (principal: AdminPrincipal, id: String)
        do {
            caller = try self.caller(token: token)
        } catch {
            if countsAsGuess(token) { throttle?.recordFailure(from: address) }
            throw error
        }
        try admit(caller.id)
        return caller
    }

    /// Whether a refused token counts against its address. A token shaped like a Tollgate key
    /// (`tg_` + 32 base62 characters, about 190 bits) cannot be guessed, and a script that races a
    /// key just issued through the CLI (the server sees it within a second) must not lock its own
    /// address out; anything else may be a guess at the master key, which is counted — every token
    /// is, should the master key itself have a Tollgate key's shape.
    private func countsAsGuess(_ token: String?) -> Bool {
        guard let token, Self.isTollgateKeyShaped(token) else { return true }
        return adminKey.map(Self.isTollgateKeyShaped) ?? false
    }

    static func isTollgateKeyShaped(_ token: String) -> Bool {
        let bytes = token.utf8
        return bytes.count == 35 && token.hasPrefix("tg_")
            && bytes.dropFirst(3).allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    /// Takes one request from the allowance of the caller with this id (`master` or a key id).
    func admit(_ id: String) throws(AdminError) {
        if let refusal = throttle?.refusingRequest(of: id) { throw refusal }
    }

    /// The bearer token (or `x-api-key` / `x-goog-api-key` / `api-key`) a request carries.
    static func token(_ request: Request) -> String? {
        ClientToken(header: { name in HTTPField.Name(name).flatMap { request.headers[$0] } })?.value
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

/// Authenticates every admin API request before its route runs (SPEC §9), under the sign-in and
/// request limits (`AdminAuth.authenticate`), and puts the caller into the request context
/// (`context.principal`), as hummingbird-auth's authenticators do. Every error of the routes behind
/// it is answered in the admin API's JSON shape (`AdminError.answering`): no admin route answers
/// with an empty body.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = TollgateRequestContext
    let auth: AdminAuth
    /// Where refused sign-ins are recorded.
    let audit: AuditTrail

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = AdminThrottle.address(context)
        do {
            var context = context
            let caller: (principal: AdminPrincipal, id: String)
            do {
                caller = try auth.authenticate(token: AdminAuth.token(request), address: address)
            } catch {
                if error.status != .tooManyRequests { await audit.recordFailedSignIn("signin.api", ip: address, refusal: error) }
                throw error
            }
            context.principal = caller.principal
            context.actor = AuditActor(id: caller.id, ip: address)
            return try await next(request, context)
        } catch {
            return AdminResponse.error(AdminError.answering(error, logger: context.logger))
        }
    }
}

/// Answers every error of the routes behind it in the admin API's JSON shape, for Tollgate's own
/// endpoints that authenticate by themselves (`/tollgate/v1/…`, with a client key).
struct AdminErrorMiddleware: RouterMiddleware {
    typealias Context = TollgateRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return AdminResponse.error(AdminError.answering(error, logger: context.logger))
        }
    }
}

/// A path under `/admin` or `/tollgate` the router has no route for — or no route for that method
/// (`PUT /admin/orgs`, `HEAD /admin/keys`) — answers a JSON 404 in the admin API's shape, never an
/// empty body. Router-wide, so it sees the router's own not-found answer.
struct JSONNotFoundMiddleware: RouterMiddleware {
    typealias Context = TollgateRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            guard path.hasPrefix("/admin") || path.hasPrefix("/tollgate/") else { throw error }
            return AdminResponse.error(
                .notFound, code: "not_found", "No endpoint \(request.method) \(path). docs/admin-api.md lists them.")
        }
    }
}
