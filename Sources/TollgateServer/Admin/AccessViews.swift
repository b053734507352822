import Foundation
import TollgateCore
import TollgateStorage

/// Orgs, keys, budgets and alerts as the admin API, the dashboard and `tollgate` show them
/// (SPEC §9): snake_case members, times ISO-8601, money and fractions as exact decimals.
package struct OrgView: Codable, Sendable, Equatable {
    package var id: String
    package var name: String
    package var markupPct: Decimal
    package var createdAt: String
    @Nullable package var webhookURL: String?

    enum CodingKeys: String, CodingKey { case id, name, markupPct = "markup_pct", createdAt = "created_at", webhookURL = "webhook_url" }

    init(_ org: Organization) {
        id = org.id
        name = org.name
        markupPct = Decimal(scaled: org.markup.partsPerMillion, decimals: 4)
        createdAt = UTCTime.iso(org.createdAtMs)
        webhookURL = org.webhookURL
    }
}

package struct KeyView: Codable, Sendable, Equatable {
    package var id: String
    package var prefix: String
    package var org: String
    package var name: String
    @Nullable package var team: String?
    @Nullable package var user: String?
    @Nullable package var department: String?
    package var role: String
    package var allowedModels: [String]
    @Nullable package var rpmLimit: Int?
    @Nullable package var tpmLimit: Int?
    package var cache: String
    @Nullable package var expiresAt: String?
    package var createdAt: String
    @Nullable package var revokedAt: String?
    @Nullable package var lastUsedAt: String?
    /// The secret, in the answer that issued the key and nowhere else.
    package var key: String?

    enum CodingKeys: String, CodingKey {
        case id, prefix, org, name, team, user, department, role, allowedModels = "allowed_models", rpmLimit = "rpm_limit"
        case tpmLimit = "tpm_limit", cache, expiresAt = "expires_at", createdAt = "created_at", revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at", key
    }

    init(_ key: TollgateKey, secret: String? = nil) {
        id = key.id
        prefix = key.prefix
        org = key.org
        name = key.name
        team = key.team
        user = key.user
        department = key.department
        role = key.role.rawValue
        allowedModels = key.allowedModels
        rpmLimit = key.rpmLimit
        tpmLimit = key.tpmLimit
        cache = key.cache.rawValue
        expiresAt = key.expiresAtMs.map(UTCTime.iso)
        createdAt = UTCTime.iso(key.createdAtMs)
        revokedAt = key.revokedAtMs.map(UTCTime.iso)
        lastUsedAt = key.lastUsedAtMs.map(UTCTime.iso)
        self.key = secret
    }
}

/// A budget with its current period's figures.
package struct BudgetView: Codable, Sendable, Equatable {
    package var id: String
    package var scope: String
    package var scopeID: String
    package var org: String
    package var limitUSD: Money
    package var period: String
    package var thresholds: [Decimal]
    package var action: String
    package var enforcement: String
    package var createdAt: String
    package var spentUSD: Money
    package var reservedUSD: Money
    package var remainingUSD: Money
    /// Null for a `total` budget.
    @Nullable package var periodStart: String?
    @Nullable package var periodEnd: String?
    /// Where its alerts go; null: the org's webhook, else the server's.
    @Nullable package var webhookURL: String?

    enum CodingKeys: String, CodingKey {
        case id, scope, scopeID = "scope_id", org, limitUSD = "limit_usd", period, thresholds, action, enforcement
        case createdAt = "created_at", spentUSD = "spent_usd", reservedUSD = "reserved_usd", remainingUSD = "remaining_usd"
        case periodStart = "period_start", periodEnd = "period_end", webhookURL = "webhook_url"
    }

    init(_ account: BudgetLedger.Account) {
        let budget = account.budget
        id = budget.id
        scope = budget.scope.rawValue
        scopeID = budget.scopeID
        org = budget.org
        limitUSD = Money(nanos: budget.limitNanos)
        period = budget.period.rawValue
        thresholds = budget.thresholds.map { Decimal(scaled: $0, decimals: 4) }
        action = budget.action.rawValue
        enforcement = budget.enforcement.rawValue
        createdAt = UTCTime.iso(budget.createdAtMs)
        spentUSD = Money(nanos: account.spentNanos)
        reservedUSD = Money(nanos: account.reservedNanos)
        remainingUSD = Money(nanos: account.remainingNanos)
        periodStart = budget.period == .total ? nil : UTCTime.iso(account.periodStartMs)
        periodEnd = account.periodEndMs.map(UTCTime.iso)
        webhookURL = budget.webhookURL
    }
}

package struct AlertView: Codable, Sendable, Equatable {
    package var id: String
    @Nullable package var budgetID: String?
    @Nullable package var org: String?
    package var kind: String
    /// The budget fraction crossed (`0.8`); null for alerts that are not about a threshold.
    @Nullable package var threshold: Decimal?
    @Nullable package var periodStart: String?
    package var firedAt: String
    package var message: String
    package var delivered: Bool
    package var attempts: Int
    @Nullable package var lastError: String?

    enum CodingKeys: String, CodingKey {
        case id, budgetID = "budget_id", org, kind, threshold, periodStart = "period_start", firedAt = "fired_at", message
        case delivered, attempts, lastError = "last_error"
    }

    init(_ alert: AlertRecord) {
        id = alert.id
        budgetID = alert.budgetID
        org = alert.org
        kind = alert.kind
        threshold = alert.thresholdBP.map { Decimal(scaled: $0, decimals: 4) }
        periodStart = alert.kind == BudgetAlert.Kind.unpricedModel.rawValue ? nil : UTCTime.iso(alert.periodStartMs)
        firedAt = UTCTime.iso(alert.firedAtMs)
        message = alert.message
        delivered = alert.delivered
        attempts = alert.attempts
        lastError = alert.lastError
    }
}

/// `DELETE /admin/users/{user}`: what the erasure changed. The user's name is not repeated.
package struct ErasureView: Codable, Sendable, Equatable {
    package var org: String
    package var erasedAs: String
    package var events: Int
    package var rollupRows: Int
    package var keys: Int
    package var feedback: Int
    package var auditEntries: Int

    enum CodingKeys: String, CodingKey {
        case org, erasedAs = "erased_as", events, rollupRows = "rollup_rows", keys, feedback, auditEntries = "audit_entries"
    }

    init(_ result: ErasureResult, org: String) {
        self.org = org
        erasedAs = result.erasedAs
        (events, rollupRows, keys, feedback, auditEntries) = (result.events, result.rollupRows, result.keys, result.feedback, result.auditEntries)
    }
}
