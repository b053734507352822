import Logging
import ServiceLifecycle
import TollgateCore
import TollgateStorage

/// Watches every org for the SPEC §13 alert kinds, every `interval` (`alerts.check_seconds`):
/// - `error_rate`: over the last 5 minutes, at least 20 requests and a share of failed ones
///   (`error_requests`) above `alerts.error_rate`;
/// - `spend_anomaly`: this hour's spend above 3× the org's hourly average of the 7 days before,
///   and above $1.
/// Each fires at most once per org and hour (the alert's dedupe key), through the same dispatcher,
/// store and webhooks as budget alerts. Reads committed usage only, off the request path.
struct OrgAlertMonitor: Service {
    let store: UsageStore
    let alerts: AlertDispatcher
    let errorRateBP: Int64
    let interval: Duration
    let clock: @Sendable () -> Int64
    let logger: Logger

    static let window: Int64 = 5 * 60_000
    static let minimumRequests: Int64 = 20
    static let anomalyFactor: Int64 = 3
    static let anomalyFloorNanos: Int64 = Money.nanosPerDollar

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            do {
                alerts.fire(try await check(nowMs: clock()))
            } catch {
                logger.error("alert checks failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The alerts the usage committed by `nowMs` calls for.
    func check(nowMs: Int64) async throws -> [BudgetAlert] {
        let hour = RollupGranularity.hour.bucketStart(nowMs)
        var fired: [BudgetAlert] = []
        for org in try await store.recentFailures(sinceMs: nowMs - Self.window)
        where org.requests >= Self.minimumRequests && org.failed * 10_000 > errorRateBP * org.requests {
            let pct = Money.decimalString(org.failed * 10_000_000_000 / org.requests, decimals: 8)
            fired.append(BudgetAlert(
                kind: .errorRate, budget: nil, periodStartMs: hour, firedAtMs: nowMs,
                message: "Tollgate: \(org.failed) of \(org.requests) requests of org \(org.org) failed in the last 5 minutes (\(pct)%, above the \(Money.decimalString(errorRateBP * 100_000, decimals: 7))% alert threshold).",
                org: org.org))
        }
        for org in try await store.hourlySpend(hourStartMs: hour)
        where org.hour > Self.anomalyFloorNanos && org.hour * 168 > Self.anomalyFactor * org.trailingWeek {
            fired.append(BudgetAlert(
                kind: .spendAnomaly, budget: nil, periodStartMs: hour, spentNanos: org.hour, firedAtMs: nowMs,
                message: "Tollgate: org \(org.org) spent $\(Money.decimalString(org.hour)) this hour, over 3× its hourly average of the last 7 days ($\(Money.decimalString(CostCalculator.roundedDivision(org.trailingWeek, by: 168)))).",
                org: org.org))
        }
        return fired
    }
}
