import TollgateCore

/// A fired alert as stored, with its webhook delivery status (SPEC §7, §9 `GET /admin/alerts`).
package struct AlertRecord: Sendable, Equatable {
    /// `alt_…`
    package var id: String
    /// What makes it fire once (`BudgetAlert.dedupeKey`).
    package var dedupeKey: String
    package var budgetID: String?
    package var org: String?
    package var kind: String
    package var thresholdBP: Int64?
    package var periodStartMs: Int64
    package var firedAtMs: Int64
    package var message: String
    /// The JSON body POSTed to the webhook, as sent.
    package var payload: String
    package var delivered: Bool
    package var attempts: Int
    package var lastError: String?
    /// Where it is delivered: its budget's, its org's or the server's webhook (nil: none).
    package var webhookURL: String?

    package init(
        id: String, dedupeKey: String, budgetID: String?, org: String?, kind: String, thresholdBP: Int64?,
        periodStartMs: Int64, firedAtMs: Int64, message: String, payload: String, delivered: Bool = false,
        attempts: Int = 0, lastError: String? = nil, webhookURL: String? = nil
    ) {
        self.webhookURL = webhookURL
        self.id = id
        self.dedupeKey = dedupeKey
        self.budgetID = budgetID
        self.org = org
        self.kind = kind
        self.thresholdBP = thresholdBP
        self.periodStartMs = periodStartMs
        self.firedAtMs = firedAtMs
        self.message = message
        self.payload = payload
        self.delivered = delivered
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// Everything a running proxy keeps in memory about access, read in one snapshot.
package struct AccessSnapshot: Sendable {
    package var version: Int64
    package var orgs: [Organization]
    package var keys: [TollgateKey]
    package var budgets: [Budget]
    /// Dedupe keys of every alert fired.
    package var firedAlerts: Set<String>
}

