import Foundation
import Logging
import Synchronization
import Testing
import TollgateCore
import TollgateStorage
import TollgateUpstream

@testable import TollgateServer

/// Keeps what it is handed, as the usage writer would.
private final class Events: UsageRecorder {
    let recorded = Mutex<[UsageEvent]>([])
    func record(_ event: UsageEvent) { recorded.withLock { $0.append(event) } }
    var all: [UsageEvent] { recorded.withLock { $0 } }
}

@Suite("Settlement: one event and every reservation released, exactly once, on every path")
struct SettlementTests {
    /// A settle stage over a real (temporary) database, with one strict $1 budget on key `key_1`.
    private func stage() throws -> (SettleStage, Events, InFlightCounter) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("settlement-\(UUID().uuidString)")
        let database = try TollgateDatabase.open(at: directory.appendingPathComponent("t.db").path)
        let store = AccessStore(database: database)
        let logger = Logger(label: "settlement-test")
        let alerts = AlertDispatcher(
            store: store, upstream: CurlUpstreamClient(logger: logger), webhook: nil, secret: nil, logger: logger)
        let access = AccessControl(store: store, alerts: alerts, clock: { 0 }, logger: logger)
        let budget = Budget(id: "bud_1", scope: .key, scopeID: "key_1", org: "acme", limitNanos: 1_000_000_000, period: .total)
        access.ledger.load([budget], spentNanos: { _, _ in 0 }, fired: [])
        let events = Events()
        let inFlight = InFlightCounter()
        let meter = Meter(pricing: PricingStore(table: try PricingTable(text: #"{"version":"t","models":{}}"#), source: "test"))
        return (SettleStage(access: access, recorder: events, meter: meter, logger: logger, inFlight: inFlight, tracer: nil), events, inFlight)
    }

    private func reserve(_ stage: SettleStage, _ settlement: Settlement, nanos: Int64) throws {
        let reservation = try stage.access.ledger.reserve(
            BudgetSubject.covering(org: "acme", team: nil, keyID: "key_1"), worstCaseNanos: nanos)
        settlement.hold(reservation!)
    }

    private func reserved(_ stage: SettleStage) -> Int64 { stage.access.ledger.accounts.map(\.reservedNanos).reduce(0, +) }

    @Test("settling twice records one event and settles the reservation once")
    func twice() throws {
        let (stage, events, inFlight) = try stage()
        var exchange = Exchange()
        exchange.attribution = Attribution(org: "acme", keyID: "key_1")
        let settlement = stage.open(exchange)
        try reserve(stage, settlement, nanos: 600_000_000)
        #expect(reserved(stage) == 600_000_000 && inFlight.value == 1)
        var event = exchange.event(status: 200, outcome: .ok)
        event.costNanos = 100_000_000
        #expect(settlement.settle(event))
        #expect(!settlement.settle(event))
        #expect(events.all.count == 1 && reserved(stage) == 0 && inFlight.value == 0)
        #expect(stage.access.ledger.accounts.first?.spentNanos == 100_000_000)
    }

    @Test("a settlement dropped unsettled settles itself as client_abort and releases its reservation")
    func deinitLastResort() throws {
        let (stage, events, inFlight) = try stage()
        var exchange = Exchange()
        exchange.attribution = Attribution(org: "acme", keyID: "key_1")
        do {
            let settlement = stage.open(exchange)
            try reserve(stage, settlement, nanos: 900_000_000)
            #expect(reserved(stage) == 900_000_000)
        }
        #expect(events.all.map(\.outcome) == [.clientAbort])
        #expect(events.all.first?.requestID == exchange.requestID)
        #expect(reserved(stage) == 0 && inFlight.value == 0)
        // the budget's headroom is back: the next worst case fits again
        let next = stage.open(exchange)
        try reserve(stage, next, nanos: 900_000_000)
        next.settle(exchange.event(status: 200, outcome: .ok))
    }

    @Test("a client-gone signal fired before a listener is set reaches the listener at once")
    func lateListener() throws {
        let (stage, _, _) = try stage()
        let settlement = stage.open(Exchange())
        settlement.clientGone.fire()
        let heard = Mutex(false)
        settlement.clientGone.onFire { heard.withLock { $0 = true } }
        #expect(heard.withLock { $0 })
        settlement.settle(Exchange().event(status: 499, outcome: .clientAbort))
    }
}
