import Synchronization
import TollgateCore

/// Signed-in dashboard browsers: a random token (the cookie's value) → who signed in, until it
/// expires. Held in memory only, so the raw admin key never reaches the browser or the disk, and
/// a restart signs everyone out.
final class DashboardSessions: Sendable {
    /// One signed-in browser.
    struct Session: Sendable, Equatable {
        var principal: AdminPrincipal
        /// SHA-256 of the admin-role Tollgate key it signed in with (nil for the master key), so a
        /// key revoked or demoted later ends its sessions at the next page load.
        var keyHash: String?
        var expiresAtMs: Int64
    }

    static let lifetimeMs: Int64 = 12 * 3_600_000
    /// Bounds memory against a script that signs in again and again: past it the session closest
    /// to expiry is dropped.
    static let capacity = 10_000

    private let sessions = Mutex<[String: Session]>([:])
    private let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    /// Starts a session and returns its token: 32 base62 characters (about 190 bits) from OpenSSL.
    func create(_ principal: AdminPrincipal, keyHash: String?) -> String {
        let token = KeySecret.base62(32)
        let now = clock()
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expiresAtMs > now }
            if sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.expiresAtMs < $1.value.expiresAtMs }) {
                sessions[oldest.key] = nil
            }
            sessions[token] = Session(principal: principal, keyHash: keyHash, expiresAtMs: now + Self.lifetimeMs)
        }
        return token
    }

    /// The live session `token` names; an expired one is forgotten.
    func session(_ token: String) -> Session? {
        let now = clock()
        return sessions.withLock { sessions in
            guard let session = sessions[token] else { return nil }
            guard session.expiresAtMs > now else {
                sessions[token] = nil
                return nil
            }
            return session
        }
    }

    func end(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    var count: Int { sessions.withLock { $0.count } }
}
