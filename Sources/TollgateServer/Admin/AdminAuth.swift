import HTTPTypes
import Hummingbird
import TollgateCore

/// Bearer auth for the admin API (SPEC §9): `TOLLGATE_ADMIN_KEY` sees everything.
///
/// Unset, every admin endpoint answers 403 saying how to enable it; a wrong or missing token is 401.
struct AdminAuth: Sendable {
    let adminKey: String?

    /// Returns nil when the request may proceed, else the error response.
    func check(_ request: Request) -> Response? {
        guard let adminKey else {
            return AdminResponse.error(
                .forbidden, code: "admin_disabled",
                "The admin API is disabled. Start Tollgate with TOLLGATE_ADMIN_KEY=<secret> (or admin_key in the config file) and send it as Authorization: Bearer <secret>.")
        }
        guard let token = ClientToken(header: { name in HTTPField.Name(name).flatMap { request.headers[$0] } }),
            Self.constantTimeEquals(token.value, adminKey)
        else {
            return AdminResponse.error(
                .unauthorized, code: "invalid_api_key", "Send the admin key as Authorization: Bearer <TOLLGATE_ADMIN_KEY>.")
        }
        return nil
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
