import Foundation
import Hummingbird
import NIOCore
import TollgateCore
import TollgateStorage

/// `GET /dashboard`, `POST /dashboard/login`, `POST /dashboard/logout` (SPEC §9): a browser signs
/// in once with an admin key through a form and gets a random session token in an HttpOnly,
/// SameSite=Strict cookie; the key itself is never stored in the browser. An org admin sees only
/// its org, through the same principal checks as the admin API.
struct DashboardRoutes: Sendable {
    static let cookieName = "tollgate_session"

    let auth: AdminAuth
    let audit: AuditTrail
    let sessions: DashboardSessions
    let stats: AdminStats
    let admin: AccessAdmin

    func register(on router: Router<TollgateRequestContext>) {
        router.get("/dashboard") { request, context in try await page(request, context: context) }
        router.post("/dashboard/login") { request, context in try await login(request, context: context) }
        router.post("/dashboard/logout") { request, _ in logout(request) }
        router.get("/dashboard/export") { request, context in try await export(request, context: context) }
    }

    /// The page's filters as a CSV download, the bytes of `GET /admin/export` for the same filters,
    /// so a browser signed in with a session cookie can take the data (the admin API wants a bearer key).
    private func export(_ request: Request, context: TollgateRequestContext) async throws -> Response {
        let address = AdminThrottle.address(context)
        let caller: (principal: AdminPrincipal, id: String)?
        do {
            caller = try signedIn(request, address: address)
        } catch {
            return Self.html(DashboardPage.error(error.message), status: error)
        }
        guard let caller else { return Self.html(DashboardPage.error("Sign in first."), status: AdminError(.unauthorized, code: "invalid_api_key", "")) }
        let filters = DashboardData.filters(HTML.formValues(request.uri.query ?? ""))
        do {
            let query = try StatsQuery(QueryParameters(Dictionary(filters, uniquingKeysWith: { $1 })))
            let events = try stats.export(query, by: caller.principal)
            try await audit.record(
                "export", by: AuditActor(id: caller.id, ip: address), target: "dashboard " + HTML.query(filters.map { ($0.name, $0.value) }), org: query.org ?? caller.principal.org)
            return StatsRoutes.exportResponse(events, format: "csv")
        } catch {
            let refusal = AdminError.answering(error, logger: context.logger)
            return Self.html(DashboardPage.error(refusal.message), status: refusal)
        }
    }

    private func page(_ request: Request, context: TollgateRequestContext) async throws -> Response {
        let principal: AdminPrincipal?
        do {
            principal = try signedIn(request, address: AdminThrottle.address(context))?.principal
        } catch {
            return Self.html(DashboardPage.error(error.message), status: error)
        }
        guard let principal else {
            var response = Self.html(DashboardLoginPage.render())
            // A cookie that names no live session (expired, signed out elsewhere, server restarted) is cleared.
            if request.cookies[Self.cookieName] != nil { response.headers[.setCookie] = Self.cookie("", request: request, maxAge: 0) }
            return response
        }
        let started = ContinuousClock.now
        let filters = DashboardData.filters(HTML.formValues(request.uri.query ?? ""))
        let data: DashboardData
        do {
            data = try await DashboardData.load(filters: filters, by: principal, stats: stats, admin: admin)
        } catch {
            let refusal = AdminError.answering(error, logger: context.logger)
            return Self.html(DashboardPage.error(refusal.message), status: refusal)
        }
        let loaded = ContinuousClock.now
        let html = DashboardPage(data: data, principal: principal, loadMs: Self.ms(loaded - started)).render()
        var response = Self.html(html)
        response.headers[.init("Server-Timing")!] = "db;dur=\(Self.ms(loaded - started)), render;dur=\(Self.ms(ContinuousClock.now - loaded))"
        return response
    }

    /// Checks the key from the form; on success starts a session and sends the browser back to the page.
    private func login(_ request: Request, context: TollgateRequestContext) async throws -> Response {
        guard Self.sameOrigin(request) else {
            return Self.html(DashboardLoginPage.render(error: "Sign-in refused: the form was posted from another site."), status: .forbidden)
        }
        guard let body = try? await request.body.collect(upTo: 64 << 10) else {
            return Self.html(DashboardLoginPage.render(error: "The sign-in form is over 64 KiB; enter just the admin key."), status: .contentTooLarge)
        }
        let key = HTML.formValues(String(buffer: body)).last { $0.name == "key" }?.value.trimmingSpaces() ?? ""
        guard !key.isEmpty else {
            return Self.html(DashboardLoginPage.render(error: "Enter the admin key."), status: .unauthorized)
        }
        let address = AdminThrottle.address(context)
        let principal: AdminPrincipal
        do {
            let caller = try auth.authenticate(token: key, address: address)
            principal = caller.principal
            try await audit.record("signin.dashboard", by: AuditActor(id: caller.id, ip: address), org: principal.org)
        } catch let refusal as AdminError {
            if refusal.status != .tooManyRequests { await audit.recordFailedSignIn("signin.dashboard", ip: address, refusal: refusal) }
            return Self.html(DashboardLoginPage.render(error: refusal.message), status: refusal)
        } catch {
            context.logger.error("dashboard: cannot record a sign-in", metadata: ["error": "\(error)"])
            return Self.html(DashboardLoginPage.render(error: "Sign-in could not be recorded in the audit log; Tollgate's log says why. Try again."), status: AdminError(.serviceUnavailable, code: "database_unavailable", ""))
        }
        let keyHash = principal == .master ? nil : KeySecret.hash(key)
        let token = sessions.create(principal, keyHash: keyHash)
        return Self.redirect(setting: Self.cookie(token, request: request, maxAge: Int(DashboardSessions.lifetimeMs / 1000)))
    }

    private func logout(_ request: Request) -> Response {
        guard Self.sameOrigin(request) else {
            return Self.html(DashboardPage.error("Sign-out refused: the form was posted from another site."), status: .forbidden)
        }
        if let token = request.cookies[Self.cookieName]?.value { sessions.end(token) }
        return Self.redirect(setting: Self.cookie("", request: request, maxAge: 0))
    }

    /// The signed-in admin: the session cookie's (rechecking an admin-role key, which may have been
    /// revoked since), else a valid bearer admin token, so `curl -H "Authorization: Bearer …"` works too.
    /// Nil shows the sign-in form; a refused bearer token counts as a failed sign-in of `address`,
    /// and the admin API's limits answer 429 here as there.
    private func signedIn(_ request: Request, address: String) throws(AdminError) -> (principal: AdminPrincipal, id: String)? {
        if let token = request.cookies[Self.cookieName]?.value, let session = sessions.session(token) {
            guard let hash = session.keyHash else {
                try auth.admit("master")
                return (session.principal, "master")
            }
            if let current = try? auth.caller(keyHash: hash), current.principal == session.principal {
                try auth.admit(current.id)
                return (session.principal, current.id)
            }
            sessions.end(token)
            return nil
        }
        guard request.headers[.authorization] != nil else { return nil }
        do {
            return try auth.authenticate(token: AdminAuth.token(request), address: address)
        } catch where error.status == .tooManyRequests {
            throw error
        } catch {
            return nil
        }
    }

    // MARK: HTTP details

    /// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page
    /// sends it), Path=/; Secure when the browser reached Tollgate over HTTPS (a TLS proxy in
    /// front says so with `X-Forwarded-Proto`).
    static func cookie(_ value: String, request: Request, maxAge: Int) -> String {
        let https = request.uri.scheme == .https || request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
        return "\(cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (https ? "; Secure" : "")
    }

    /// A form post from a page of another origin is refused (login CSRF); requests without an
    /// `Origin` header (non-browser clients) pass.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://" + host || origin == "https://" + host
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: htmlHeaders, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A page answering a refusal with its status (and `Retry-After` when it has one).
    static func html(_ text: String, status refusal: AdminError) -> Response {
        var response = html(text, status: HTTPResponse.Status(code: refusal.status.rawValue))
        if let seconds = refusal.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// 303 to the page, so a reload after signing in or out does not post the form again.
    static func redirect(setting cookie: String) -> Response {
        var headers = htmlHeaders
        headers[.location] = "/dashboard"
        headers[.setCookie] = cookie
        return Response(status: .seeOther, headers: headers)
    }

    /// Nothing but the page's own inline style and SVG runs or loads; the page is never cached
    /// or framed, and its URL (which may name users) goes to no other site as a referrer (no-referrer
    /// would also make the browser send `Origin: null` on the page's own form posts).
    static let htmlHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("Referrer-Policy")!: "same-origin",
    ]

    static func ms(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 10).rounded() / 10
    }
}
