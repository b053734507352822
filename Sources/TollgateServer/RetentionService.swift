import Logging
import ServiceLifecycle
import TollgateStorage

/// Deletes usage and audit entries older than the retention settings (`retention.*`, SPEC defaults
/// 90 / 90 / 730 / 2555 days), shortly after start and then every `interval`, in small transactions that never stall
/// the usage writer for long (`UsageStore.prune`).
struct RetentionService: Service {
    let store: UsageStore
    let audit: AuditLog
    let retention: TollgateConfig.Retention
    let clock: @Sendable () -> Int64
    var firstDelay: Duration = .seconds(60)
    var interval: Duration = .seconds(3600)
    let logger: Logger

    func run() async throws {
        var wait = firstDelay
        while !Task.isShuttingDownGracefully {
            // Woken by a graceful shutdown, not only by the timer: SIGTERM must not wait an hour.
            let delay = wait
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) } } catch { return }
            wait = interval
            let cut = retention.cutoffs(nowMs: clock())
            do {
                let pruned = try await store.prune(eventsBefore: cut.events, hourlyBefore: cut.hourly, dailyBefore: cut.daily)
                if pruned != UsageStore.PruneResult() {
                    logger.info(
                        "retention: deleted old usage",
                        metadata: ["events": "\(pruned.events)", "hourly_rows": "\(pruned.hourlyRows)", "daily_rows": "\(pruned.dailyRows)"])
                }
                if let cutoff = cut.audit {
                    let entries = try await audit.prune(before: cutoff)
                    if entries > 0 { logger.info("retention: deleted old audit entries", metadata: ["entries": "\(entries)"]) }
                }
            } catch {
                logger.error("retention: pruning failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }
}
