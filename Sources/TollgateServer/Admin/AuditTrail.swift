import Logging
import Synchronization
import TollgateCore
import TollgateStorage

/// Appends what changes no access record to the audit log (SPEC §13): sign-ins, exports, pricing
/// reloads, cache clears. Changes to orgs, keys and budgets are recorded by `AccessAdmin`, in the
/// change's own transaction.
///
/// Failed sign-ins are recorded at most `failuresPerAddressPerMinute` times per address and
/// minute: a client hammering the API with bad keys must not grow the log without bound (the
/// admin throttle refuses it long before that anyway; docs/security.md).
final class AuditTrail: Sendable {
    static let failuresPerAddressPerMinute = 20

    private let log: AuditLog
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let failures = Mutex<(minute: Int64, counts: [String: Int])>((0, [:]))

    init(log: AuditLog, clock: @escaping @Sendable () -> Int64, logger: Logger) {
        self.log = log
        self.clock = clock
        self.logger = logger
    }

    /// Records an action; throws when the log cannot be written, so an export or a change that
    /// must be on record does not happen unrecorded.
    func record(_ action: String, by actor: AuditActor, target: String? = nil, org: String? = nil, outcome: String = "ok") async throws {
        try await log.append(AuditEntry(atMs: clock(), actor: actor.id, action: action, target: target, org: org, ip: actor.ip, outcome: outcome))
    }

    /// Records a refused sign-in from `ip` (within the per-address cap); a log that cannot be
    /// written is logged, not answered: the refusal stands either way.
    func recordFailedSignIn(_ action: String, ip: String, refusal: AdminError) async {
        let now = clock()
        let admitted = failures.withLock { state -> Bool in
            let minute = now / 60_000
            if state.minute != minute { state = (minute, [:]) }
            guard state.counts.count < 10_000 || state.counts[ip] != nil else { return false }
            state.counts[ip, default: 0] += 1
            return state.counts[ip]! <= Self.failuresPerAddressPerMinute
        }
        guard admitted else { return }
        do {
            try await record(action, by: AuditActor(id: "unknown", ip: ip), target: refusal.code, outcome: "failed")
        } catch {
            logger.error("audit: cannot record a failed sign-in", metadata: ["error": "\(error)"])
        }
    }
}
