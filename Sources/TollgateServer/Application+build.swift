import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import ServiceLifecycle
import TollgateCore
import TollgateStorage
import TollgateUpstream

/// A Tollgate ready to run: the HTTP application plus the background services it needs, in the
/// order they start (and, reversed, the order they stop: the server drains first).
package struct TollgateService: Sendable {
    package let services: [any Service]
    package let config: TollgateConfig
    package let logger: Logger
    /// Every series `/metrics` shows.
    package let metricsRegistry: PrometheusCollectorRegistry

    /// Runs until SIGTERM/SIGINT, then drains in-flight requests (bounded by `shutdown_timeout`) and returns.
    package func run() async throws {
        var groupConfig = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .seconds(config.shutdownTimeoutSeconds)
        try await ServiceGroup(configuration: groupConfig).run()
    }
}

/// Assembles Tollgate from its configuration; `tollgate serve` and the tests both call this.
///
/// - Parameter onListening: called with the bound port once the server accepts connections.
package func buildTollgate(
    _ config: TollgateConfig, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> TollgateService {
    let pricing = try PricingStore.load(path: config.pricingPath)
    let database = try TollgateDatabase.open(at: config.databasePath, logger: logger)
    try await TagRollups.configure(config.rollupTags, in: database, logger: logger)
    let writer = UsageWriter(
        database: database, configuration: .init(flushInterval: .milliseconds(config.flushMs)), logger: logger)
    let upstream = CurlUpstreamClient(drivers: config.upstreamThreads, logger: logger)
    let accessStore = AccessStore(database: database)
    let alerts = AlertDispatcher(
        store: accessStore, upstream: upstream, webhook: config.alertWebhook, secret: config.alertSecret, logger: logger)
    let access = AccessControl(store: accessStore, alerts: alerts, logger: logger)
    try await access.reload(force: true)
    let cache = ResponseCache(store: CacheStore(database: database), maxBytes: config.cacheMaxBytes, logger: logger)
    await cache.load()
    let metricsRegistry = PrometheusCollectorRegistry()
    let inFlight = InFlightCounter()
    let tracer = config.tracing.map { SpanExporter(settings: $0, upstream: upstream, logger: logger) }
    let credentials = try ProviderCredentials.make(
        for: config.providers, upstream: upstream, timeouts: config.timeouts, clock: access.clock, logger: logger)
    let proxy = ProxyHandler(
        router: ProviderRouter(providers: config.providers), upstream: upstream,
        recorder: MetricsRecorder(registry: metricsRegistry, next: writer),
        meter: Meter(pricing: pricing), access: access, cache: cache,
        settings: ProxySettings(
            allowPassthrough: config.allowPassthrough, maxBodyBytes: config.maxBodyBytes, timeouts: config.timeouts,
            blockUnpricedModels: config.unknownModelPolicy == "block", cacheByDefault: config.cacheEnabled,
            cacheTTLSeconds: config.cacheTTLSeconds, maxAttributionLength: config.limits.maxAttributionLength,
            maxOrgs: config.limits.maxOrgs, keyPaths: KeyPathPolicy(unmeteredPaths: config.keyUnmeteredPaths)),
        inFlight: inFlight, logger: logger, credentials: credentials, tracer: tracer)

    let router = Router(context: TollgateRequestContext.self)
    router.add(middleware: JSONNotFoundMiddleware())
    HealthRoutes(database: database, pricing: pricing, writer: { writer.metrics }).register(on: router)
    let auth = AdminAuth(
        adminKey: config.adminKey, access: access,
        throttle: AdminThrottle(
            failedAuthPerMinute: config.admin.failedAuthPerMinute, requestsPerMinute: config.admin.requestsPerMinute,
            clock: access.clock))
    let stats = AdminStats(database: database, clock: access.clock)
    let accessAdmin = AccessAdmin(store: accessStore, access: access)
    let auditLog = AuditLog(database: database)
    let audit = AuditTrail(log: auditLog, clock: access.clock, logger: logger)
    // Every route registered on `admin` runs behind the admin API's authentication.
    let admin = router.group().add(middleware: AdminAuthMiddleware(auth: auth, audit: audit))
    StatsRoutes(stats: stats, audit: audit).register(on: admin)
    AccessRoutes(admin: accessAdmin).register(on: admin)
    AuditRoutes(log: auditLog).register(on: admin)
    DashboardRoutes(auth: auth, audit: audit, sessions: DashboardSessions(clock: access.clock), stats: stats, admin: accessAdmin).register(on: router)
    SelfServiceRoutes(access: access, auth: auth, stats: stats, admin: accessAdmin, writer: writer).register(on: router.group().add(middleware: AdminErrorMiddleware()))
    CacheRoutes(admin: CacheAdmin(store: cache.store, cache: cache), audit: audit).register(on: admin)
    PricingRoutes(pricing: pricing, audit: audit).register(on: admin)
    // Anything else under /admin: a JSON 404 in the admin API's shape, not an empty body.
    for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
        admin.on("/admin/**", method: method) { request, _ -> Response in
            throw AdminError(.notFound, code: "not_found", "No admin endpoint \(request.method) \(request.uri.path). docs/admin-api.md lists them.")
        }
    }
    let exporter = MetricsExporter(
        registry: metricsRegistry,
        sources: .init(
            writer: { writer.metrics }, budgets: { access.ledger.accounts }, cacheTotals: { cache.memoryTotals },
            requestsInFlight: { inFlight.value }, transfersActive: { upstream.activeTransfers }))
    MetricsRoutes(exporter: exporter).register(on: config.metricsRequireAdmin ? admin : router.group())

    let fdLimit = FileDescriptorLimit.raise()
    let limits = config.limits
    let maxConnections = limits.maxConnections > 0 ? limits.maxConnections : FileDescriptorLimit.defaultMaxConnections(fdLimit: fdLimit)
    let app = Application(
        responder: TollgateResponder(proxy: proxy, local: router.buildResponder()),
        server: .tollgateHTTP1(
            configuration: .init(
                additionalChannelHandlers: [
                    RequestDeadlineHandler(
                        headerTimeout: .milliseconds(Int64(limits.headerTimeoutMs)),
                        bodyTimeout: .milliseconds(Int64(limits.bodyTimeoutMs))),
                    ClientGoneHandler(),
                ],
                idleTimeout: .milliseconds(Int64(limits.keepAliveTimeoutMs)))),
        configuration: .init(
            address: .hostname(config.host, port: config.port), serverName: nil,
            availableConnectionsDelegate: MaximumAvailableConnections(maxConnections)),
        onServerRunning: { channel in
            try? await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(), position: .first)
            }.get()
            let port = channel.localAddress?.port ?? config.port
            logger.info(
                "Tollgate listening on http://\(config.host):\(port)",
                metadata: [
                    "database": "\(config.databasePath)",
                    "pricing": "\(pricing.source) (\(pricing.current.version), \(pricing.current.models.count) models)",
                    "passthrough": "\(config.allowPassthrough)",
                    "admin_api": "\(config.adminKey == nil ? "disabled (set TOLLGATE_ADMIN_KEY)" : "enabled")",
                    "metrics": "\(config.metricsRequireAdmin ? "/metrics (admin key required)" : "/metrics (open)")",
                    "cache": "\(config.cacheEnabled ? "on" : "off (per request: X-Tollgate-Cache: on)"), max \(config.cacheMaxBytes >> 20) MiB in memory",
                    "connections": "at most \(maxConnections) (open files \(fdLimit))",
                    "upstream_threads": "\(config.upstreamThreads)",
                    "rollup_tags": "\(config.rollupTags.names.isEmpty ? "none" : config.rollupTags.names.joined(separator: ","))",
                    "tracing": "\(config.tracing.map { "OTLP http/json to \($0.displayURL) as \($0.serviceName)" } ?? "off (set OTEL_EXPORTER_OTLP_ENDPOINT)")",
                ])
            for provider in config.providers {
                logger.debug("provider \(provider.name) → \(provider.baseURL) (\(provider.format.rawValue))")
            }
            await onListening(port)
        },
        logger: logger)
    // Started in this order, stopped in reverse: the server drains, then access control saves
    // last-use times, the writer flushes, and alert deliveries stop (undelivered ones resume at the
    // next start) before the curl drivers go.
    let reload = PricingReloadService(pricing: pricing, logger: logger)
    let trim = MemoryTrimService(inFlight: inFlight)
    let monitor = OrgAlertMonitor(
        store: UsageStore(database: database), alerts: alerts, errorRateBP: config.alertErrorRateBP,
        interval: .seconds(config.alertCheckSeconds), clock: access.clock, logger: logger)
    let retention = RetentionService(
        store: UsageStore(database: database), audit: auditLog, retention: config.retention, clock: access.clock, logger: logger)
    return TollgateService(
        services: [upstream as any Service] + (tracer.map { [$0] } ?? []) + [alerts, writer, access, cache, retention, monitor, reload, trim, app],
        config: config, logger: logger,
        metricsRegistry: metricsRegistry)
}
