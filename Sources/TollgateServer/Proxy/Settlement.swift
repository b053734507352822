import Logging
import Synchronization
import TollgateCore
import TollgateUpstream

/// Everything one request holds until it ends, and the promise of its usage event: settled
/// exactly once on every path — answered, refused, upstream failed, head write failed, client
/// gone, handler threw.
///
/// Created when the request arrives (before any stage can fail), so no path can skip it.
/// Admission adds the budget reservation and the token-bucket charge, the cache stage its lease.
/// `settle` releases them with what the request actually used and hands the event to the
/// writer; a second call does nothing. If a path still forgets it, `deinit` settles it as a
/// `client_abort` and logs an error: a reservation is never leaked until its period rolls over.
final class Settlement: Sendable {
    /// Fired when the client goes away (`ConnectionWatch`); whatever the request waits on listens.
    let clientGone = CancellationSignal()
    private let stage: SettleStage
    private let state: Mutex<State>

    private struct State {
        var settled = false
        /// The request as last described, for the `deinit` safety net.
        var exchange: Exchange
        var reservation: BudgetLedger.Reservation?
        /// The key whose TPM bucket was charged on admission, and by how many tokens.
        var bucket: (key: TollgateKey, tokens: Int)?
        var lease: CacheLease?
    }

    init(_ exchange: Exchange, stage: SettleStage) {
        self.stage = stage
        self.state = Mutex(State(exchange: exchange))
        stage.inFlight.increment()
    }

    /// Keeps `exchange` as the request's latest description (for the safety net).
    func note(_ exchange: Exchange) { state.withLock { $0.exchange = exchange } }

    func hold(_ reservation: BudgetLedger.Reservation) { state.withLock { $0.reservation = reservation } }
    func hold(bucket key: TollgateKey, tokens: Int) { state.withLock { $0.bucket = (key, tokens) } }
    func hold(_ lease: CacheLease) { state.withLock { $0.lease = lease } }

    /// The cache lease this request fills, if it went upstream for the cache.
    var lease: CacheLease? { state.withLock { $0.lease } }

    /// Releases what the request holds against `event`'s cost and tokens and records `event`.
    /// Returns false (and does nothing) if the request was settled already.
    @discardableResult
    func settle(_ event: UsageEvent) -> Bool {
        let held = state.withLock { state -> State? in
            guard !state.settled else { return nil }
            state.settled = true
            return state
        }
        guard let held else { return false }
        clientGone.clearListener()
        held.lease?.complete(nil)
        if let reservation = held.reservation {
            stage.access.alerts.fire(stage.access.ledger.settle(reservation, costNanos: event.costNanos))
        }
        if let (key, tokens) = held.bucket {
            stage.access.limiter.settle(keyID: key.id, tpm: key.tpmLimit, estimatedTokens: tokens, actualTokens: event.usage.totalTokens)
        }
        if !event.priced, event.outcome == .ok, event.endpoint.isMetered {
            stage.access.noteUnpriced(model: event.model, provider: event.provider)
        }
        stage.recorder.record(event)
        if let tracer = stage.tracer, let trace = held.exchange.trace, trace.sampled {
            tracer.record(FinishedSpan(event: event, trace: trace, requestedModel: held.exchange.model))
        }
        stage.inFlight.decrement()
        return true
    }

    deinit {
        let exchange = state.withLock { $0.settled ? nil : $0.exchange }
        guard let exchange else { return }
        stage.logger.error(
            "A request ended without settling; settled now as client_abort. This is a bug: please report it.",
            metadata: ["request_id": "\(exchange.requestID)", "provider": "\(exchange.provider)"])
        settle(exchange.event(status: 499, outcome: .clientAbort, error: "The request ended without being settled."))
    }
}
