import Foundation
import Logging
import TollgateCore
import TollgateStorage
import TollgateUpstream

/// Every setting of a running Tollgate, after flags, environment, config file and defaults were merged.
///
/// The defaults are SPEC §1's: `127.0.0.1:8080`, `./tollgate.db`, built-in providers at their
/// public URLs, passthrough allowed, cache off.
package struct TollgateConfig: Sendable {
    package var host = "127.0.0.1"
    package var port = 8080
    package var databasePath = "./tollgate.db"
    /// nil: `./pricing.json` if present, else the copy built into the binary.
    package var pricingPath: String?
    package var unknownModelPolicy = "allow"
    package var adminKey: String?
    package var allowPassthrough = true
    package var cacheEnabled = false
    package var cacheTTLSeconds = 3600
    package var cacheMaxBytes = 256 << 20
    package var alertWebhook: String?
    package var alertSecret: String?
    /// `alerts.error_rate`: an org's share of failed requests over 5 minutes that fires `error_rate`,
    /// in basis points (0.2 → 2000).
    package var alertErrorRateBP: Int64 = 2000
    /// `alerts.check_seconds`: how often the org-level alerts (`error_rate`, `spend_anomaly`) are checked.
    package var alertCheckSeconds = 60
    package var timeouts = UpstreamTimeouts()
    package var flushMs = 100
    package var logLevel: Logger.Level = .info
    /// `TOLLGATE_LOG_FORMAT` / `log_format` (SPEC §15).
    package var logFormat = LogFormat.text
    package var maxBodyBytes = 32 << 20
    package var shutdownTimeoutSeconds = 30
    /// libcurl driver threads: one per core (at most 8) by default. One thread carries thousands of
    /// transfers, but at 1,024 concurrent requests it became the bottleneck (docs/benchmarks.md).
    package var upstreamThreads = min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 8)
    package var metricsRequireAdmin = false
    package var providers: [Provider] = Provider.builtIn
    package var retention = Retention()
    /// `analytics.rollup_tags` and `analytics.rollup_tag_values` (SPEC §13).
    package var rollupTags = TagRollupSettings()
    package var limits = Limits()
    /// `keys.unmetered_paths`: billable paths Tollgate cannot meter that Tollgate keys may still
    /// reach, as path globs per key id (`*`: every key). See `KeyPathPolicy`.
    package var keyUnmeteredPaths: [String: [String]] = [:]
    /// OpenTelemetry trace export (SPEC §15, `OTEL_*` variables); nil: off.
    package var tracing: TracingSettings?

    /// What one client, connection or request may take (docs/security.md has the reasons).
    package struct Limits: Sendable, Equatable {
        /// Open client connections at most; 0: from the process's file-descriptor limit (each
        /// proxied connection also needs an upstream socket), at most 10 000.
        package var maxConnections = 0
        /// A request's head must arrive whole within this time of its first byte.
        package var headerTimeoutMs = 10_000
        /// A request's body must arrive whole within this time of its head.
        package var bodyTimeoutMs = 60_000
        /// A keep-alive connection with no request in progress is closed after this long.
        package var keepAliveTimeoutMs = 60_000
        package var maxAttributionLength = AttributionHeaders.defaultMaxLength
        /// Orgs passthrough traffic may create (`X-Tollgate-Org`), counting those that exist.
        package var maxOrgs = 1000

        package init() {}
    }

    /// How long usage is kept, in days (0 = forever); SPEC defaults.
    package struct Retention: Sendable, Equatable {
        package var eventsDays = 90
        package var hourlyDays = 90
        package var dailyDays = 730
        /// The audit log (SPEC §13): seven years by default, what most record-keeping rules ask.
        package var auditDays = 2555

        package init() {}

        /// The cut-offs (Unix ms) for `UsageStore.prune` and `AuditLog.prune` at `nowMs`.
        package func cutoffs(nowMs: Int64) -> (events: Int64?, hourly: Int64?, daily: Int64?, audit: Int64?) {
            // Past 100 000 days (274 years) a cut-off is "forever" anyway; the product must not overflow.
            func cut(_ days: Int) -> Int64? { days > 0 ? nowMs - Int64(min(days, 100_000)) * 86_400_000 : nil }
            return (cut(eventsDays), cut(hourlyDays), cut(dailyDays), cut(auditDays))
        }
    }

    package init() {}

    /// `host:port` as given to `--listen`.
    package var listen: String { "\(host):\(port)" }

    /// The admin API's limits (`admin:` in the config file; docs/security.md).
    package var admin = AdminLimits()

    /// Failed sign-ins per client address and requests per admin principal, per minute; 0 = no limit.
    package struct AdminLimits: Sendable, Equatable {
        package var failedAuthPerMinute = 10
        package var requestsPerMinute = 600

        package init() {}
    }
}
