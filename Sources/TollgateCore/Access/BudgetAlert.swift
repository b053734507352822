/// An alert the ledger decided to fire (SPEC §7): at most once per budget, period, kind and threshold.
package struct BudgetAlert: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        case threshold
        case burnRate = "burn_rate"
        case unpricedModel = "unpriced_model"
        /// An org's share of failed requests over 5 minutes above `alerts.error_rate` (SPEC §13).
        case errorRate = "error_rate"
        /// An org's spend this hour above 3× its trailing 7-day hourly average and above $1.
        case spendAnomaly = "spend_anomaly"
    }

    package var kind: Kind
    /// nil for `unpriced_model`.
    package var budget: Budget?
    /// The threshold crossed, in basis points of the limit (threshold alerts only).
    package var thresholdBP: Int64?
    package var periodStartMs: Int64
    package var periodEndMs: Int64?
    package var spentNanos: Int64
    package var firedAtMs: Int64
    package var message: String
    /// For `unpriced_model`: the model; else nil.
    package var model: String?
    /// The org of an org-level alert (`error_rate`, `spend_anomaly`); a budget's alert has its budget's.
    package var org: String?

    /// The identity that makes an alert fire once: budget, period, kind, threshold (or the model).
    package var dedupeKey: String {
        switch kind {
        case .unpricedModel: "unpriced_model|\(model ?? "")"
        // At most once per org and hour, however long the condition lasts.
        case .errorRate, .spendAnomaly: "\(kind.rawValue)|\(org ?? "")|\(periodStartMs)"
        case .threshold, .burnRate: "\(budget?.id ?? "")|\(periodStartMs)|\(kind.rawValue)|\(thresholdBP ?? 0)"
        }
    }

    package init(
        kind: Kind, budget: Budget?, thresholdBP: Int64? = nil, periodStartMs: Int64, periodEndMs: Int64? = nil,
        spentNanos: Int64 = 0, firedAtMs: Int64, message: String, model: String? = nil, org: String? = nil
    ) {
        self.org = org ?? budget?.org
        self.kind = kind
        self.budget = budget
        self.thresholdBP = thresholdBP
        self.periodStartMs = periodStartMs
        self.periodEndMs = periodEndMs
        self.spentNanos = spentNanos
        self.firedAtMs = firedAtMs
        self.message = message
        self.model = model
    }

    /// The alert for a model the pricing file does not know (SPEC §6: alerted once per model).
    package static func unpricedModel(_ model: String, provider: String, atMs: Int64) -> BudgetAlert {
        BudgetAlert(
            kind: .unpricedModel, budget: nil, periodStartMs: 0, firedAtMs: atMs,
            message: "Model '\(model)' (\(provider)) is not in the pricing file: its requests are recorded unpriced. Add it to pricing.json and reload (POST /admin/pricing/reload or SIGHUP).",
            model: model)
    }
}
