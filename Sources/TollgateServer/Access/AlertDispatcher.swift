import Logging
import NIOCore
import ServiceLifecycle
import TollgateCore
import TollgateStorage
import TollgateUpstream

/// Records fired alerts and POSTs each to the webhook (SPEC §7): JSON with a Slack-compatible
/// `text` and structured fields, signed `X-Tollgate-Signature: sha256=<hex HMAC-SHA256(secret, body)>`,
/// retried with exponential backoff; the delivery status is kept for `GET /admin/alerts`.
///
/// `fire` only enqueues, so the request path never waits. Alerts are stored before delivery with a
/// unique dedupe key, so each fires once even across restarts; undelivered ones are retried after
/// a restart.
final class AlertDispatcher: Service, Sendable {
    let store: AccessStore
    let upstream: any UpstreamClient
    let webhook: String?
    let secret: String?
    /// Waits before the 2nd, 3rd, … attempt; the last one is reused until `maxAttempts`.
    let backoff: [Duration]
    let maxAttempts: Int
    private let queue: AsyncStream<BudgetAlert>
    private let input: AsyncStream<BudgetAlert>.Continuation
    private let logger: Logger

    init(
        store: AccessStore, upstream: any UpstreamClient, webhook: String?, secret: String?,
        backoff: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32)],
        maxAttempts: Int = 8, logger: Logger
    ) {
        self.store = store
        self.upstream = upstream
        self.webhook = webhook
        self.secret = secret
        self.backoff = backoff
        self.maxAttempts = maxAttempts
        self.logger = logger
        (queue, input) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Enqueues alerts; returns at once.
    func fire(_ alerts: [BudgetAlert]) {
        for alert in alerts { input.yield(alert) }
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            if let pending = try? await store.undeliveredAlerts(), webhook != nil {
                for record in pending where record.attempts < maxAttempts {
                    group.addTask { await self.deliver(record) }
                }
            }
            for await alert in queue.cancelOnGracefulShutdown() {
                let record = Self.record(alert)
                do {
                    guard try await store.insert(record) else { continue }
                } catch {
                    logger.error("Cannot store an alert", metadata: ["error": "\(error)", "alert": "\(alert.message)"])
                    continue
                }
                logger.notice("\(alert.message)", metadata: ["alert_id": "\(record.id)", "kind": "\(alert.kind.rawValue)"])
                guard webhook != nil else { continue }
                group.addTask { await self.deliver(record) }
            }
        }
    }

    /// POSTs until a 2xx answer or `maxAttempts`, saving the status after every attempt.
    private func deliver(_ record: AlertRecord) async {
        guard let webhook else { return }
        var attempts = record.attempts
        while attempts < maxAttempts, !Task.isCancelled {
            if attempts > 0 {
                let wait = backoff.isEmpty ? .seconds(1) : backoff[min(attempts - 1, backoff.count - 1)]
                do { try await Task.sleep(for: wait) } catch { return }
            }
            attempts += 1
            var failure: String?
            do {
                let answer = try await upstream.buffered(request(webhook, record))
                if !(200..<300).contains(answer.head.status) { failure = "the webhook answered HTTP \(answer.head.status)" }
            } catch {
                failure = "\(error)"
            }
            try? await store.recordDelivery(id: record.id, delivered: failure == nil, attempts: attempts, lastError: failure)
            if failure == nil { return }
            logger.warning("Alert webhook delivery failed", metadata: ["alert_id": "\(record.id)", "attempt": "\(attempts)", "error": "\(failure ?? "")"])
        }
    }

    private func request(_ url: String, _ record: AlertRecord) -> UpstreamRequest {
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/json"), ("user-agent", "tollgate-alerts"), ("x-tollgate-alert-id", record.id),
        ]
        if let secret { headers.append(("x-tollgate-signature", Self.signature(secret: secret, body: record.payload))) }
        return UpstreamRequest(
            url: url, method: "POST", headers: headers, body: ByteBuffer(string: record.payload), decodeContent: false,
            timeouts: UpstreamTimeouts(connectMs: 5000, firstByteMs: 10_000, idleMs: 10_000))
    }

    /// `sha256=` + hex HMAC-SHA256 of the exact body bytes.
    static func signature(secret: String, body: String) -> String {
        "sha256=" + Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), message: Array(body.utf8)))
    }

    /// The stored record of a fired alert, its webhook body included.
    static func record(_ alert: BudgetAlert) -> AlertRecord {
        let id = KeySecret.id("alt")
        var o = JSONObject()
        o.add("text", alert.message)
        o.add("alert_id", id)
        o.add("kind", alert.kind.rawValue)
        o.add("budget_id", alert.budget?.id)
        o.add("org", alert.budget?.org)
        o.add("scope", alert.budget?.scope.rawValue)
        o.add("scope_id", alert.budget?.scopeID)
        o.add("period", alert.budget?.period.rawValue)
        if let bp = alert.thresholdBP { o.add("threshold", fraction: bp) } else { o.addNull("threshold") }
        if let budget = alert.budget {
            o.add("limit_usd", usd: budget.limitNanos)
            o.add("spent_usd", usd: alert.spentNanos)
            o.add("period_start", UTCTime.iso(alert.periodStartMs))
            o.add("period_end", alert.periodEndMs.map(UTCTime.iso))
        }
        if let model = alert.model { o.add("model", model) }
        o.add("fired_at", UTCTime.iso(alert.firedAtMs))
        o.add("message", alert.message)
        return AlertRecord(
            id: id, dedupeKey: alert.dedupeKey, budgetID: alert.budget?.id, org: alert.budget?.org, kind: alert.kind.rawValue,
            thresholdBP: alert.thresholdBP, periodStartMs: alert.periodStartMs, firedAtMs: alert.firedAtMs,
            message: alert.message, payload: o.string)
    }
}
