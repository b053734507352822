/// A spending limit on a key, a team, a user, a department or an org (SPEC §7, §13). Money in nano-dollars; budgets count
/// `cost_usd`, what the providers bill, not the marked-up `charged_usd`.
package struct Budget: Sendable, Equatable {
    package enum Scope: String, Sendable, CaseIterable { case key, team, user, department, org }
    package enum Action: String, Sendable, CaseIterable { case block, alert }
    package enum Enforcement: String, Sendable, CaseIterable { case strict, soft }

    /// `bud_…`
    package var id: String
    package var scope: Scope
    /// The key id, team, user or department name, or org id the budget covers.
    package var scopeID: String
    /// The org it belongs to (for an org budget, `scopeID`).
    package var org: String
    package var limitNanos: Int64
    package var period: BudgetPeriod
    /// Alert thresholds as fractions of the limit in basis points (50 % is 5000), ascending.
    package var thresholds: [Int64]
    package var action: Action
    package var enforcement: Enforcement
    package var createdAtMs: Int64
    /// Where this budget's alerts go (else its org's webhook, else the server's).
    package var webhookURL: String?

    package static let defaultThresholds: [Int64] = [5000, 8000, 10000]

    package init(
        id: String, scope: Scope, scopeID: String, org: String, limitNanos: Int64, period: BudgetPeriod,
        thresholds: [Int64] = Budget.defaultThresholds, action: Action = .block, enforcement: Enforcement = .strict,
        createdAtMs: Int64 = 0, webhookURL: String? = nil
    ) {
        self.webhookURL = webhookURL
        self.id = id
        self.scope = scope
        self.scopeID = scopeID
        self.org = org
        self.limitNanos = limitNanos
        self.period = period
        self.thresholds = thresholds.sorted()
        self.action = action
        self.enforcement = enforcement
        self.createdAtMs = createdAtMs
    }

    /// The index entry a request must carry for this budget to cover it.
    package var subject: BudgetSubject {
        switch scope {
        case .key: .key(scopeID)
        case .team: .team(org: org, team: scopeID)
        case .user: .user(org: org, user: scopeID)
        case .department: .department(org: org, department: scopeID)
        case .org: .org(scopeID)
        }
    }
}

/// What a budget can be attached to; a request is covered by its key's, its team's, its user's,
/// its department's and its org's.
package enum BudgetSubject: Hashable, Sendable {
    case key(String)
    case team(org: String, team: String)
    case user(org: String, user: String)
    case department(org: String, department: String)
    case org(String)

    /// The subjects covering a request attributed to `org`, `team`, `user`, `department` and `keyID`.
    package static func covering(
        org: String, team: String?, user: String? = nil, department: String? = nil, keyID: String
    ) -> [BudgetSubject] {
        var subjects: [BudgetSubject] = [.key(keyID), .org(org)]
        if let team, !team.isEmpty { subjects.append(.team(org: org, team: team)) }
        if let user, !user.isEmpty { subjects.append(.user(org: org, user: user)) }
        if let department, !department.isEmpty { subjects.append(.department(org: org, department: department)) }
        return subjects
    }
}
