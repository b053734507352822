import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// The proxy pipeline, drawn once here (docs/architecture.md has the picture):
///
///     route → identify → read body → inspect → admit → cache → forward → relay → settle
///
/// Each stage is a small type; `admit` runs SPEC §9's checks in order (model allow-list → rate
/// limit → budget reservation). A request's `Settlement` exists from its first moment, so every
/// stage may end the request early by throwing a `RequestError`, and whatever happens it records
/// exactly one usage event and gives back everything admission took.
struct ProxyHandler: Sendable {
    let routing: RouteStage
    let identify: IdentifyStage
    let inspect: InspectStage
    let admit: AdmitStage
    let cache: CacheStage
    let forward: ForwardStage
    let relay: RelayStage
    let settle: SettleStage
    let logger: Logger

    init(
        router: ProviderRouter, upstream: any UpstreamClient, recorder: any UsageRecorder, meter: Meter,
        access: AccessControl, cache: ResponseCache, settings: ProxySettings, inFlight: InFlightCounter, logger: Logger,
        credentials: [String: any ProviderCredential], tracer: SpanExporter?
    ) {
        routing = RouteStage(router: router)
        identify = IdentifyStage(access: access, settings: settings)
        inspect = InspectStage(settings: settings)
        admit = AdmitStage(access: access, meter: meter, settings: settings)
        self.cache = CacheStage(cache: cache, meter: meter, settings: settings, clock: access.clock)
        forward = ForwardStage(settings: settings, credentials: credentials)
        settle = SettleStage(access: access, recorder: recorder, meter: meter, logger: logger, inFlight: inFlight, tracer: tracer)
        relay = RelayStage(upstream: upstream, cache: self.cache, settle: settle)
        self.logger = logger
    }

    /// - Parameter channel: the client's connection, watched so a client that leaves is seen at once.
    func handle(_ request: Request, channel: (any Channel)?) async -> Response {
        var exchange = Exchange()
        if settle.tracer != nil { exchange.trace = TraceContext(continuing: request.headers[.traceparent]) }
        let settlement = settle.open(exchange)
        if let channel { ConnectionWatch.watch(channel, firing: settlement.clientGone) }
        do {
            let route = try routing.route(request, &exchange)
            let unmetered = try identify.identify(request, route: route, &exchange)
            let body = try await inspect.readBody(request, &exchange)
            let inspection = try inspect.inspect(body, route: route, canonicalize: cache.mayApply(request, exchange), &exchange)
            try admit.admit(inspection, route: route, unmetered: unmetered, body: body, &exchange, settlement)
            settlement.note(exchange)
            if let hit = try await cache.consult(request, inspection: inspection, route: route, &exchange, settlement) {
                return hit
            }
            let upstreamRequest = try await forward.upstreamRequest(
                request, route: route, body: inspection.upstreamBody.map { ByteBuffer(bytes: $0) } ?? body,
                swapCredential: exchange.key != nil, trace: exchange.trace, cancellation: settlement.clientGone)
            if inspection.stream || !route.endpoint.isMetered {
                return try await relay.streaming(upstreamRequest, inspection: inspection, exchange, settlement)
            }
            return try await relay.buffered(upstreamRequest, inspection: inspection, exchange, settlement)
        } catch let error as RequestError {
            return settle.refuse(error, exchange, settlement)
        } catch {
            logger.error("Unexpected proxy failure", metadata: ["request_id": "\(exchange.requestID)", "error": "\(error)"])
            return settle.refuse(RequestError(.upstreamUnavailable, "Tollgate failed to forward the request: \(error)"), exchange, settlement)
        }
    }
}
