import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateStorage
import TollgateUpstream

/// The exact-match response cache (SPEC §8): recently used answers in memory under a byte bound
/// (least recently used evicted), every answer also in SQLite so a restart keeps it, and request
/// coalescing — while one request for a key is upstream, identical ones wait for its answer
/// instead of going upstream too.
final class ResponseCache: Service, Sendable {
    enum Source: String, Sendable { case memory, database }

    /// What a lookup decided.
    enum Lookup: Sendable {
        /// Answer from the cache.
        case hit(CachedAnswer, Source)
        /// Go upstream; `lease` stores the answer (or, completed with nil, releases the waiters).
        case miss(CacheLease)
        /// The request's client went away while it waited for another request's answer.
        case abandoned
    }

    private struct State {
        var memory: LRUMap<CachedAnswer>
        /// Keys being fetched upstream, with the requests waiting for them.
        var inFlight: [String: [ResumeOnce<CachedAnswer?>]] = [:]
        /// Answers kept in memory but not yet written to SQLite (written in batches by `run`).
        var unsaved: [CachedAnswer] = []
        /// The first 64 bits of every key stored in SQLite (loaded at start, added on save), so a
        /// memory miss reads SQLite only when the key may be there: a plain miss costs no read.
        /// Entries cleared or expired since stay in the set; they cost one read that finds nothing.
        var stored: Set<UInt64> = []
        var generation: Int64 = -1
    }

    let store: CacheStore
    let maxBytes: Int
    private let state: Mutex<State>
    private let clock: @Sendable () -> Int64
    private let logger: Logger

    init(store: CacheStore, maxBytes: Int, clock: @escaping @Sendable () -> Int64 = AccessControl.systemClock, logger: Logger) {
        self.store = store
        self.maxBytes = maxBytes
        self.state = Mutex(State(memory: LRUMap(maxCost: maxBytes)))
        self.clock = clock
        self.logger = logger
    }

    /// Memory first, then (unless another request is already fetching the key) SQLite; on a miss
    /// the caller leads: it goes upstream and completes the lease. A request arriving while the
    /// key is in flight waits for the leader and gets its answer, or leads itself if that failed;
    /// it stops waiting when `clientGone` fires.
    func lookup(_ key: String, clientGone: CancellationSignal? = nil) async -> Lookup {
        let now = clock()
        enum Step { case hit(CachedAnswer), wait, lead }
        let step: Step = state.withLock { state in
            if let answer = state.memory.get(key) {
                if answer.expiresAtMs > now { return .hit(answer) }
                state.memory.remove(key)
            }
            if state.inFlight[key] != nil { return .wait }
            state.inFlight[key] = []
            return .lead
        }
        switch step {
        case .hit(let answer):
            return .hit(answer, .memory)
        case .wait:
            let answer = await withCheckedContinuation { (continuation: CheckedContinuation<CachedAnswer?, Never>) in
                let waiter = ResumeOnce(continuation)
                let resumeNow: Bool = state.withLock { state in
                    guard state.inFlight[key] != nil else { return true }
                    state.inFlight[key]!.append(waiter)
                    return false
                }
                if resumeNow { waiter.resume(nil) } else { clientGone?.onFire { waiter.resume(nil) } }
            }
            clientGone?.clearListener()
            if let answer { return .hit(answer, .memory) }
            if clientGone?.isFired == true { return .abandoned }
            return await lookup(key, clientGone: clientGone)
        case .lead:
            let mayBeStored = state.withLock { $0.stored.contains(Self.prefix(key)) }
            if mayBeStored, let answer = try? await store.entry(key, nowMs: now) {
                remember(answer)
                resolve(key, answer)
                return .hit(answer, .database)
            }
            return .miss(CacheLease(key: key, cache: self, coalesced: true))
        }
    }

    /// A lease for `refresh`: goes upstream whatever is cached, and replaces the entry.
    func refreshLease(_ key: String) -> CacheLease {
        CacheLease(key: key, cache: self, coalesced: false)
    }

    /// Keeps an answer in memory at once and queues it for SQLite, which `run` writes in one
    /// transaction every `flushInterval` — one write per batch, not per answer, beside the usage writer.
    func save(_ answer: CachedAnswer) {
        state.withLock { state in
            _ = state.memory.set(answer.key, answer, cost: answer.memoryCost)
            state.unsaved.append(answer)
            state.stored.insert(Self.prefix(answer.key))
        }
    }

    /// Writes the queued answers to SQLite.
    func flushUnsaved() async {
        let batch = state.withLock { state in
            defer { state.unsaved = [] }
            return state.unsaved
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.save(batch)
        } catch {
            logger.error("Cannot store cache entries", metadata: ["entries": "\(batch.count)", "error": "\(error)"])
        }
    }

    private func remember(_ answer: CachedAnswer) {
        state.withLock { _ = $0.memory.set(answer.key, answer, cost: answer.memoryCost) }
    }

    /// Wakes the requests waiting for `key` with the leader's answer (nil: go upstream yourselves).
    fileprivate func resolve(_ key: String, _ answer: CachedAnswer?) {
        let waiters = state.withLock { $0.inFlight.removeValue(forKey: key) } ?? []
        for waiter in waiters { waiter.resume(answer) }
    }

    /// Drops memory entries (all, or one org's); SQLite is cleared by the caller.
    func forget(org: String?) {
        state.withLock { state in
            if let org { state.memory.removeAll { _, answer in answer.org == org } } else { state.memory = LRUMap(maxCost: maxBytes) }
        }
    }

    var memoryTotals: (entries: Int, bytes: Int) {
        state.withLock { ($0.memory.count, $0.memory.totalCost) }
    }

    /// Writes queued answers every `flushInterval`, and drops the memory copy when the database's
    /// entries were cleared elsewhere (`tollgate cache clear`, checked every second), until
    /// shutdown; then writes what is still queued.
    func run() async throws {
        var ticks = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await flushUnsaved()
            if ticks % 10 == 0 {
                do {
                    let generation = try await store.generation()
                    let changed = state.withLock { state -> Bool in
                        defer { state.generation = generation }
                        return state.generation >= 0 && state.generation != generation
                    }
                    if changed { forget(org: nil) }
                } catch {
                    logger.error("Cannot read the cache generation", metadata: ["error": "\(error)"])
                }
            }
            ticks += 1
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
        }
        await flushUnsaved()
    }

    /// At start: deletes expired entries from SQLite and learns which keys it holds.
    func load() async {
        if let purged = try? await store.purgeExpired(nowMs: clock()), purged > 0 {
            logger.info("cache: removed expired entries", metadata: ["entries": "\(purged)"])
        }
        let keys = (try? await store.keys(nowMs: clock())) ?? []
        state.withLock { $0.stored = Set(keys.map(Self.prefix)) }
    }

    /// The first 16 hex digits of a key as a number.
    static func prefix(_ key: String) -> UInt64 { UInt64(key.prefix(16), radix: 16) ?? 0 }
}

/// The duty of a request that went upstream for a cache key: complete once, with the answer to
/// store or nil, which also releases the requests coalesced behind it.
final class CacheLease: Sendable {
    let key: String
    private let cache: ResponseCache
    /// Whether requests may be waiting on it (a `refresh` is not coalesced).
    private let coalesced: Bool
    private let done = Mutex(false)

    fileprivate init(key: String, cache: ResponseCache, coalesced: Bool) {
        self.key = key
        self.cache = cache
        self.coalesced = coalesced
    }

    /// A lease dropped without an answer (a response whose body never ran) still releases its
    /// waiters, so identical requests never wait forever.
    deinit { complete(nil) }

    /// Stores `answer` if there is one and wakes the waiters; later calls do nothing.
    func complete(_ answer: CachedAnswer?) {
        guard done.withLock({ d in defer { d = true }; return !d }) else { return }
        if let answer { cache.save(answer) }
        if coalesced { cache.resolve(key, answer) }
    }
}
