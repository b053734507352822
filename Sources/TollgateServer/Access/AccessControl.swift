import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateStorage

/// Who may call and how much (SPEC §3, §4, §7): Tollgate keys, org markups, rate limits and
/// budgets, held in memory so the request path never reads the database.
///
/// The copy is loaded at start and reloaded whenever the database's access version moves: at once
/// after the admin API's own writes, and within `pollInterval` after the CLI's (checked by `run`).
/// `run` also saves keys' last-use times and creates the orgs passthrough traffic names.
final class AccessControl: Service, Sendable {
    private struct Registry {
        var version: Int64 = -1
        var keysByHash: [String: TollgateKey] = [:]
        var orgs: [String: Organization] = [:]
    }

    let store: AccessStore
    let ledger: BudgetLedger
    let limiter: RateLimiter
    let alerts: AlertDispatcher
    /// Unix milliseconds now; tests pass their own.
    let clock: @Sendable () -> Int64
    private let registry = Mutex(Registry())
    private let pending = Mutex<(lastUsed: [String: Int64], newOrgs: Set<String>, unpricedModels: Set<String>)>(([:], [], []))
    private let pollInterval: Duration
    private let logger: Logger

    init(
        store: AccessStore, alerts: AlertDispatcher, clock: @escaping @Sendable () -> Int64 = AccessControl.systemClock,
        pollInterval: Duration = .seconds(1), logger: Logger
    ) {
        self.store = store
        self.alerts = alerts
        self.clock = clock
        self.ledger = BudgetLedger(clock: clock)
        self.limiter = RateLimiter(clock: clock)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    @Sendable static func systemClock() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Request path

    /// The key whose secret is `secret`, if one was issued (usable or not).
    func key(secret: String) -> TollgateKey? {
        let hash = KeySecret.hash(secret)
        return registry.withLock { $0.keysByHash[hash] }
    }

    /// The key whose secret hashes to `hash` (a dashboard session remembers the hash, not the secret).
    func key(hash: String) -> TollgateKey? {
        registry.withLock { $0.keysByHash[hash] }
    }

    /// The org's markup (none for an unknown org).
    func markup(org: String) -> Markup {
        registry.withLock { $0.orgs[org]?.markup } ?? .none
    }

    /// Notes a key use; saved in batches.
    func noteUse(of key: TollgateKey) {
        let now = clock()
        pending.withLock { $0.lastUsed[key.id] = now }
    }

    /// Passthrough traffic naming an org that does not exist yet creates it with defaults (SPEC §3),
    /// while there are fewer than `limit` orgs; false when it would be one too many.
    func noteOrg(_ org: String, limit: Int) -> Bool {
        let known = registry.withLock { ($0.orgs[org] != nil, $0.orgs.count) }
        if known.0 { return true }
        return pending.withLock { pending in
            if pending.newOrgs.contains(org) { return true }
            guard known.1 + pending.newOrgs.count < limit else { return false }
            pending.newOrgs.insert(org)
            return true
        }
    }

    /// Alerts once per model that the pricing file does not know (SPEC §6).
    func noteUnpriced(model: String, provider: String) {
        guard !model.isEmpty, pending.withLock({ $0.unpricedModels.insert(model).inserted }) else { return }
        logger.warning("Model is not in the pricing file; its requests are recorded unpriced", metadata: ["model": "\(model)", "provider": "\(provider)"])
        alerts.fire([.unpricedModel(model, provider: provider, atMs: clock())])
    }

    // MARK: Loading

    /// Reads orgs, keys and budgets again when the database changed since the last load.
    func reload(force: Bool = false) async throws {
        let version = try await store.version()
        if !force, version == registry.withLock({ $0.version }) { return }
        let snapshot = try await store.snapshot()
        let now = clock()
        let starts = snapshot.budgets.map { ($0, $0.period.start(containing: now)) }
        let spent = try await store.spentNanos(starts)
        ledger.load(snapshot.budgets, spentNanos: { budget, _ in spent[budget.id] ?? 0 }, fired: snapshot.firedAlerts)
        registry.withLock { registry in
            registry.version = snapshot.version
            registry.keysByHash = Dictionary(snapshot.keys.map { ($0.hash, $0) }, uniquingKeysWith: { a, _ in a })
            registry.orgs = Dictionary(snapshot.orgs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
        logger.debug("access reloaded", metadata: ["keys": "\(snapshot.keys.count)", "budgets": "\(snapshot.budgets.count)", "orgs": "\(snapshot.orgs.count)"])
    }

    /// Polls for outside changes and saves what the request path noted, until shutdown.
    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.pollInterval) }
            await flush()
        }
        await flush()
    }

    /// Saves pending last-use times and new orgs, then reloads if anything changed.
    func flush() async {
        let (lastUsed, newOrgs) = pending.withLock { state in
            defer {
                state.lastUsed = [:]
                state.newOrgs = []
            }
            return (state.lastUsed, state.newOrgs)
        }
        do {
            if !newOrgs.isEmpty { try await store.ensureOrgs(newOrgs.sorted(), atMs: clock()) }
            try await store.touch(lastUsed)
            try await reload()
        } catch {
            logger.error("Cannot sync keys and budgets with the database", metadata: ["error": "\(error)"])
        }
    }
}
