import Foundation

/// Who is calling the admin API (SPEC §9): the master key (`TOLLGATE_ADMIN_KEY`) sees every org;
/// a Tollgate key with role `admin` sees only its own.
package enum AdminPrincipal: Sendable, Equatable {
    case master
    case orgAdmin(String)

    /// The only org it may see; nil for every org.
    package var org: String? {
        switch self {
        case .master: nil
        case .orgAdmin(let org): org
        }
    }

    /// Refuses (403) an org it may not see.
    package func check(org: String) throws(AdminError) {
        if let own = self.org, own != org {
            throw AdminError(.forbidden, code: "forbidden", "This admin key belongs to org '\(own)' and cannot see org '\(org)'.")
        }
    }

    /// The org to show: the asked one (checked), else its own (nil: all).
    package func scope(_ asked: String?) throws(AdminError) -> String? {
        if let asked {
            try check(org: asked)
            return asked
        }
        return org
    }
}

/// Who an audit entry names (SPEC §13 `actor`, `ip`): `master`, an admin key's id, `cli:<os user>`
/// for the command line; and the TCP peer it came from.
package struct AuditActor: Sendable, Equatable {
    package var id: String
    package var ip: String?

    package init(id: String, ip: String?) {
        self.id = id
        self.ip = ip
    }

    /// A change made without a known caller; no route should produce one.
    static let unknown = AuditActor(id: "unknown", ip: nil)

    /// The `tollgate` command line, named after the OS account running it (its passwd entry, not
    /// `$USER`, which the caller sets).
    static var commandLine: AuditActor {
        let uid = getuid()
        let name = getpwuid(uid).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? String(uid)
        return AuditActor(id: "cli:" + name, ip: nil)
    }
}

/// An admin API refusal: status, Tollgate code and a message that says what to do.
package struct AdminError: Error, Sendable, Equatable {
    package enum Status: Int, Sendable {
        case badRequest = 400, unauthorized = 401, forbidden = 403, notFound = 404, conflict = 409
        case payloadTooLarge = 413, tooManyRequests = 429
        case internalError = 500, serviceUnavailable = 503
    }

    package var status: Status
    package var code: String
    package var message: String
    /// Sent as `Retry-After` (429 and 503 answers).
    package var retryAfterSeconds: Int?

    package init(_ status: Status, code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// 400 naming the field.
    package static func invalid(_ field: String, _ message: String) -> AdminError {
        AdminError(.badRequest, code: "invalid_request", "'\(field)' \(message)")
    }

    package static func notFound(_ kind: String, _ id: String) -> AdminError {
        AdminError(.notFound, code: "not_found", "No \(kind) with id '\(id)'.")
    }
}
