import Foundation
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
            if let pending = try? await store.undeliveredAlerts() {
                for record in pending where record.attempts < maxAttempts && record.webhookURL != nil {
                    group.addTask { await self.deliver(record) }
                }
            }
            for await alert in queue.cancelOnGracefulShutdown() {
                var record = Self.record(alert)
                record.webhookURL = await webhookURL(for: alert)
                do {
                    guard try await store.insert(record) else { continue }
                } catch {
                    logger.error("Cannot store an alert", metadata: ["error": "\(error)", "alert": "\(alert.message)"])
                    continue
                }
                logger.notice("\(alert.message)", metadata: ["alert_id": "\(record.id)", "kind": "\(alert.kind.rawValue)"])
                guard record.webhookURL != nil else { continue }
                group.addTask { await self.deliver(record) }
            }
        }
    }

    /// The budget's webhook, else its org's, else the server's (SPEC §13).
    private func webhookURL(for alert: BudgetAlert) async -> String? {
        if let url = alert.budget?.webhookURL { return url }
        if let org = alert.org, let url = try? await store.org(org)?.webhookURL { return url }
        return webhook
    }

    /// POSTs until a 2xx answer or `maxAttempts`, saving the status after every attempt.
    private func deliver(_ record: AlertRecord) async {
        guard let webhook = record.webhookURL else { return }
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
        return AlertRecord(
            id: id, dedupeKey: alert.dedupeKey, budgetID: alert.budget?.id, org: alert.org, kind: alert.kind.rawValue,
            thresholdBP: alert.thresholdBP, periodStartMs: alert.periodStartMs, firedAtMs: alert.firedAtMs,
            message: alert.message, payload: AdminJSON.string(WebhookPayload(alert, id: id)))
    }
}

/// The JSON body an alert webhook receives (SPEC §7): `text` for Slack-style receivers, the
/// budget's figures when the alert is about a budget, the model when it is about one.
struct WebhookPayload: Encodable {
    let alert: BudgetAlert
    let id: String

    init(_ alert: BudgetAlert, id: String) {
        self.alert = alert
        self.id = id
    }

    enum CodingKeys: String, CodingKey {
        case text, alertID = "alert_id", kind, budgetID = "budget_id", org, scope, scopeID = "scope_id", period, threshold
        case limitUSD = "limit_usd", spentUSD = "spent_usd", periodStart = "period_start", periodEnd = "period_end", model
        case firedAt = "fired_at", message
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let budget = alert.budget
        try c.encode(alert.message, forKey: .text)
        try c.encode(id, forKey: .alertID)
        try c.encode(alert.kind.rawValue, forKey: .kind)
        try c.encode(budget?.id, forKey: .budgetID)
        try c.encode(alert.org, forKey: .org)
        try c.encode(budget?.scope.rawValue, forKey: .scope)
        try c.encode(budget?.scopeID, forKey: .scopeID)
        try c.encode(budget?.period.rawValue, forKey: .period)
        try c.encode(alert.thresholdBP.map { Decimal(scaled: $0, decimals: 4) }, forKey: .threshold)
        if let budget {
            try c.encode(Money(nanos: budget.limitNanos), forKey: .limitUSD)
            try c.encode(Money(nanos: alert.spentNanos), forKey: .spentUSD)
            try c.encode(UTCTime.iso(alert.periodStartMs), forKey: .periodStart)
            try c.encode(alert.periodEndMs.map(UTCTime.iso), forKey: .periodEnd)
        } else if alert.kind == .spendAnomaly {
            try c.encode(Money(nanos: alert.spentNanos), forKey: .spentUSD)
            try c.encode(UTCTime.iso(alert.periodStartMs), forKey: .periodStart)
        }
        try c.encodeIfPresent(alert.model, forKey: .model)
        try c.encode(UTCTime.iso(alert.firedAtMs), forKey: .firedAt)
        try c.encode(alert.message, forKey: .message)
    }
}
