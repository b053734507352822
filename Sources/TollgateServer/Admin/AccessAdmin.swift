import Foundation
import TollgateCore
import TollgateStorage

/// The admin operations on orgs, keys, budgets and alerts (SPEC §9), shared by the HTTP admin API
/// and the `tollgate keys|orgs|budgets` commands, so both validate and answer the same way.
///
/// Every answer is the typed value the API returns as JSON (AccessViews.swift). With a running server's `AccessControl`,
/// changes apply to the proxy at once and budgets show live spend and reservations; without one
/// (the CLI) a running server picks changes up within a second, and spend is read from the rollups.
package struct AccessAdmin: Sendable {
    let store: AccessStore
    let access: AccessControl?
    let clock: @Sendable () -> Int64
    /// Who the changes are recorded as in the audit log (`acting(as:)`).
    private(set) var actor: AuditActor

    init(
        store: AccessStore, access: AccessControl?, actor: AuditActor = .unknown,
        clock: @escaping @Sendable () -> Int64 = AccessControl.systemClock
    ) {
        self.store = store
        self.access = access
        self.actor = actor
        self.clock = clock
    }

    /// For the CLI: the database alone, changes recorded as `cli:<os user>`.
    package init(database: TollgateDatabase) {
        self.init(store: AccessStore(database: database), access: nil, actor: .commandLine)
    }

    /// The same operations, recorded in the audit log as `actor`'s.
    func acting(as actor: AuditActor) -> AccessAdmin {
        var copy = self
        copy.actor = actor
        return copy
    }

    /// The audit entry of a change, committed in the change's transaction.
    private func audit(_ action: String, target: String, org: String) -> AuditEntry {
        AuditEntry(atMs: clock(), actor: actor.id, action: action, target: target, org: org, ip: actor.ip)
    }

    // MARK: Orgs

    package func createOrg(_ input: AdminInput, by principal: AdminPrincipal) async throws -> OrgView {
        guard principal == .master else { throw AdminError(.forbidden, code: "forbidden", "Only the master admin key can create orgs.") }
        try input.allowOnly(["id", "name", "markup_pct", "webhook_url"])
        guard let id = try input.slug("id") else { throw AdminError.invalid("id", "is required.") }
        if try input.string("name")?.isEmpty == true { throw AdminError.invalid("name", "must not be empty.") }
        let org = Organization(
            id: id, name: try input.string("name") ?? id, markup: Markup(partsPerMillion: try input.percentPPM("markup_pct") ?? 0),
            createdAtMs: clock(), webhookURL: try Self.webhookURL(input))
        try await saving("org '\(id)' already exists.") { try await store.insert(org, audit: audit("org.create", target: id, org: id)) }
        return OrgView(org)
    }

    package func listOrgs(by principal: AdminPrincipal) async throws -> ListAnswer<OrgView> {
        let orgs = try await store.orgs().filter { principal.org == nil || $0.id == principal.org }
        return ListAnswer(data: orgs.map(OrgView.init))
    }

    package func org(_ id: String, by principal: AdminPrincipal) async throws -> OrgView {
        try principal.check(org: id)
        guard let org = try await store.org(id) else { throw AdminError.notFound("org", id) }
        return OrgView(org)
    }

    package func updateOrg(_ id: String, _ input: AdminInput, by principal: AdminPrincipal) async throws -> OrgView {
        guard principal == .master else { throw AdminError(.forbidden, code: "forbidden", "Only the master admin key can change orgs.") }
        try input.allowOnly(["name", "markup_pct", "webhook_url"])
        guard var org = try await store.org(id) else { throw AdminError.notFound("org", id) }
        if let name = try input.string("name") {
            guard !name.isEmpty else { throw AdminError.invalid("name", "must not be empty.") }
            org.name = name
        }
        if let ppm = try input.percentPPM("markup_pct") { org.markup = Markup(partsPerMillion: ppm) }
        if input.has("webhook_url") { org.webhookURL = try Self.webhookURL(input) }
        try await saving("") { try await store.update(org, audit: audit("org.update", target: id, org: id)) }
        return OrgView(org)
    }

    package func deleteOrg(_ id: String, by principal: AdminPrincipal) async throws -> OrgView {
        guard principal == .master else { throw AdminError(.forbidden, code: "forbidden", "Only the master admin key can delete orgs.") }
        guard id != "default" else { throw AdminError(.conflict, code: "conflict", "The 'default' org cannot be deleted.") }
        guard let org = try await store.org(id) else { throw AdminError.notFound("org", id) }
        try await saving("org '\(id)' still has keys or budgets; delete its budgets first (revoked keys stay on record, so an org that ever had keys is kept).") {
            try await store.deleteOrg(id, audit: audit("org.delete", target: id, org: id))
        }
        return OrgView(org)
    }

    // MARK: Keys

    static let keyFields: Set<String> = [
        "name", "team", "user", "department", "role", "allowed_models", "rpm_limit", "tpm_limit", "cache", "expires_at",
    ]

    /// Issues a key; the answer is the only place its secret ever appears.
    package func createKey(_ input: AdminInput, by principal: AdminPrincipal) async throws -> KeyView {
        try input.allowOnly(Self.keyFields.union(["org"]))
        guard let org = try input.slug("org") ?? principal.org else { throw AdminError.invalid("org", "is required.") }
        try principal.check(org: org)
        guard try await store.org(org) != nil else {
            throw AdminError.invalid("org", "names no org ('\(org)'); create it first with POST /admin/orgs or `tollgate orgs create`.")
        }
        let secret = KeySecret.generate()
        var key = TollgateKey(
            id: KeySecret.id("key"), hash: KeySecret.hash(secret), prefix: KeySecret.prefix(secret), org: org,
            createdAtMs: clock())
        try apply(input, to: &key)
        let stored = key
        try await saving("") { try await store.insert(stored, audit: audit("key.create", target: stored.id, org: stored.org)) }
        return KeyView(key, secret: secret)
    }

    package func listKeys(org: String?, cursor: String?, limit: Int, by principal: AdminPrincipal) async throws -> ListAnswer<KeyView> {
        let scope = try principal.scope(org)
        let keys = try await store.keys(org: scope, after: cursor, limit: limit)
        return ListAnswer(data: keys.map { KeyView($0) }, nextCursor: keys.count == limit ? keys.last?.id : nil)
    }

    package func key(_ id: String, by principal: AdminPrincipal) async throws -> KeyView {
        KeyView(try await visibleKey(id, by: principal))
    }

    package func updateKey(_ id: String, _ input: AdminInput, by principal: AdminPrincipal) async throws -> KeyView {
        try input.allowOnly(Self.keyFields)
        var key = try await visibleKey(id, by: principal)
        try apply(input, to: &key)
        let stored = key
        try await saving("") { try await store.update(stored, audit: audit("key.update", target: stored.id, org: stored.org)) }
        return KeyView(key)
    }

    /// Revokes: the record stays, with `revoked_at` set; the proxy refuses the key at once.
    package func revokeKey(_ id: String, by principal: AdminPrincipal) async throws -> KeyView {
        var key = try await visibleKey(id, by: principal)
        if key.revokedAtMs == nil {
            key.revokedAtMs = clock()
            let stored = key
            try await saving("") { try await store.update(stored, audit: audit("key.revoke", target: stored.id, org: stored.org)) }
        }
        return KeyView(key)
    }

    private func visibleKey(_ id: String, by principal: AdminPrincipal) async throws -> TollgateKey {
        guard let key = try await store.key(id), principal.org == nil || principal.org == key.org else {
            throw AdminError.notFound("key", id)
        }
        return key
    }

    private func apply(_ input: AdminInput, to key: inout TollgateKey) throws(AdminError) {
        if input.has("name") { key.name = try input.string("name") ?? "" }
        if input.has("team") { key.team = try input.string("team") }
        if input.has("user") { key.user = try input.string("user") }
        if input.has("department") { key.department = try input.string("department") }
        if let role = try input.choice("role", TollgateKey.Role.self) { key.role = role }
        if input.has("allowed_models") { key.allowedModels = try input.strings("allowed_models") ?? [] }
        if input.has("rpm_limit") { key.rpmLimit = try input.positiveInt("rpm_limit") }
        if input.has("tpm_limit") { key.tpmLimit = try input.positiveInt("tpm_limit") }
        if let cache = try input.choice("cache", TollgateKey.CachePolicy.self) { key.cache = cache }
        if input.has("expires_at") { key.expiresAtMs = try input.time("expires_at") }
    }

    // MARK: Budgets

    static let budgetFields: Set<String> = [
        "scope", "scope_id", "limit_usd", "period", "thresholds", "action", "enforcement", "webhook_url",
    ]

    package func createBudget(_ input: AdminInput, by principal: AdminPrincipal) async throws -> BudgetView {
        try input.allowOnly(Self.budgetFields.union(["org"]))
        guard let scope = try input.choice("scope", Budget.Scope.self) else { throw AdminError.invalid("scope", "is required (key, team, user, department or org).") }
        let scopeID = try input.required("scope_id")
        guard let limit = try input.usd("limit_usd") else { throw AdminError.invalid("limit_usd", "is required.") }
        let org: String
        switch scope {
        case .org:
            guard AttributionHeaders.isSlug(scopeID) else { throw AdminError.invalid("scope_id", "must be an org id.") }
            if let given = try input.slug("org"), given != scopeID { throw AdminError.invalid("org", "must equal scope_id for an org budget.") }
            org = scopeID
        case .key:
            guard let key = try await store.key(scopeID), principal.org == nil || principal.org == key.org else {
                throw AdminError.invalid("scope_id", "names no key ('\(scopeID)').")
            }
            if let given = try input.slug("org"), given != key.org { throw AdminError.invalid("org", "must be the key's org ('\(key.org)').") }
            org = key.org
        case .team, .user, .department:
            guard let given = try input.slug("org") ?? principal.org else {
                throw AdminError.invalid("org", "is required for a \(scope.rawValue) budget.")
            }
            org = given
        }
        try principal.check(org: org)
        guard try await store.org(org) != nil else { throw AdminError.invalid("org", "names no org ('\(org)').") }
        var budget = Budget(id: KeySecret.id("bud"), scope: scope, scopeID: scopeID, org: org, limitNanos: limit, period: .month, createdAtMs: clock())
        try apply(input, to: &budget)
        let stored = budget
        let subject = scope == .org ? "org '\(org)'" : "\(scope.rawValue) '\(scopeID)' in org '\(org)'"
        try await saving("a \(budget.period.rawValue) budget for \(subject) already exists; change it with PATCH /admin/budgets/{id}.") {
            try await store.insert(stored, audit: audit("budget.create", target: stored.id, org: stored.org))
        }
        return try await view(budget)
    }

    /// Creates the budget, or updates the one with the same org, scope, scope id and period (`tollgate budgets set`).
    package func setBudget(_ input: AdminInput, by principal: AdminPrincipal) async throws -> BudgetView {
        do {
            return try await createBudget(input, by: principal)
        } catch let error as AdminError where error.status == .conflict {
            guard let scope = try input.choice("scope", Budget.Scope.self) else { throw error }
            let probe = Budget(
                id: "", scope: scope, scopeID: try input.required("scope_id"),
                org: try input.slug("org") ?? (scope == .org ? try input.required("scope_id") : ""), limitNanos: 0,
                period: try input.choice("period", BudgetPeriod.self) ?? .month)
            guard let existing = try await store.budget(matching: probe) else { throw error }
            var update = input.values
            for field in ["org", "scope", "scope_id"] { update[field] = nil }
            return try await updateBudget(existing.id, AdminInput(update), by: principal)
        }
    }

    package func listBudgets(org: String?, by principal: AdminPrincipal) async throws -> ListAnswer<BudgetView> {
        let budgets = try await store.budgets(org: try principal.scope(org))
        var views: [BudgetView] = []
        for budget in budgets { views.append(try await view(budget)) }
        return ListAnswer(data: views)
    }

    package func budget(_ id: String, by principal: AdminPrincipal) async throws -> BudgetView {
        try await view(try await visibleBudget(id, by: principal))
    }

    package func updateBudget(_ id: String, _ input: AdminInput, by principal: AdminPrincipal) async throws -> BudgetView {
        try input.allowOnly(Self.budgetFields.subtracting(["scope", "scope_id"]))
        var budget = try await visibleBudget(id, by: principal)
        try apply(input, to: &budget)
        let stored = budget
        try await saving("another budget has the same scope and period.") { try await store.update(stored, audit: audit("budget.update", target: stored.id, org: stored.org)) }
        return try await view(budget)
    }

    package func deleteBudget(_ id: String, by principal: AdminPrincipal) async throws -> BudgetView {
        let budget = try await visibleBudget(id, by: principal)
        let answer = try await view(budget)
        try await saving("") { try await store.deleteBudget(id, audit: audit("budget.delete", target: id, org: budget.org)) }
        return answer
    }

    /// The budgets a key's requests count against: its own, its team's and its org's (SPEC §7).
    func budgets(covering key: TollgateKey) async throws -> [BudgetView] {
        let subjects = Set(BudgetSubject.covering(org: key.org, team: key.team, user: key.user, department: key.department, keyID: key.id))
        var views: [BudgetView] = []
        for budget in try await store.budgets(org: key.org) where subjects.contains(budget.subject) {
            views.append(try await view(budget))
        }
        return views
    }

    private func visibleBudget(_ id: String, by principal: AdminPrincipal) async throws -> Budget {
        guard let budget = try await store.budget(id), principal.org == nil || principal.org == budget.org else {
            throw AdminError.notFound("budget", id)
        }
        return budget
    }

    private func apply(_ input: AdminInput, to budget: inout Budget) throws(AdminError) {
        if let limit = try input.usd("limit_usd") { budget.limitNanos = limit }
        if let period = try input.choice("period", BudgetPeriod.self) { budget.period = period }
        if let thresholds = try input.fractions("thresholds") { budget.thresholds = thresholds.sorted() }
        if let action = try input.choice("action", Budget.Action.self) { budget.action = action }
        if let enforcement = try input.choice("enforcement", Budget.Enforcement.self) { budget.enforcement = enforcement }
        if input.has("webhook_url") { budget.webhookURL = try Self.webhookURL(input) }
    }

    /// `webhook_url`: an http(s) URL, or null to fall back to the org's or the server's webhook.
    /// Link-local and cloud metadata addresses are refused in every spelling the URL parser and
    /// the resolver accept (`169.254.169.254`, `2852039166`, `0xa9.0xfe.0xa9.0xfe`,
    /// `[::ffff:169.254.169.254]`, `metadata.google.internal.`): Tollgate POSTs there from inside the
    /// network, and an org admin must not be able to point it at the instance's credentials. A name
    /// that resolves to such an address later is for egress rules to stop (docs/admin-api.md).
    static func webhookURL(_ input: AdminInput) throws(AdminError) -> String? {
        guard let text = try input.string("webhook_url") else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host?.lowercased(), !host.isEmpty
        else { throw AdminError.invalid("webhook_url", "must be an http:// or https:// URL, got '\(text)'.") }
        guard !WebhookHost.isMetadata(host) else {
            throw AdminError.invalid("webhook_url", "must not point at a link-local or cloud metadata address (\(host)).")
        }
        return text
    }

    // MARK: Users

    /// Erases a user of an org (SPEC §13): every event, rollup row, key and feedback of theirs now
    /// names `erased_…`; totals are unchanged. Audited, in the same transaction.
    package func eraseUser(_ user: String, org: String?, by principal: AdminPrincipal) async throws -> ErasureView {
        guard let org = try principal.scope(org) else { throw AdminError.invalid("org", "is required: users are erased within one org.") }
        guard !user.isEmpty else { throw AdminError.invalid("user", "must not be empty.") }
        guard try await store.org(org) != nil else { throw AdminError.notFound("org", org) }
        let result = try await store.eraseUser(user, org: org) { erased in
            AuditEntry(atMs: clock(), actor: actor.id, action: "user.erase", target: erased, org: org, ip: actor.ip)
        }
        try await access?.reload()
        return ErasureView(result, org: org)
    }

    // MARK: Alerts

    package func listAlerts(org: String?, budgetID: String?, limit: Int, by principal: AdminPrincipal) async throws -> ListAnswer<AlertView> {
        let alerts = try await store.alerts(org: try principal.scope(org), budgetID: budgetID, limit: limit)
        return ListAnswer(data: alerts.map(AlertView.init))
    }

    // MARK: Answers

    /// Runs a write; a unique or foreign-key clash is 409 with `conflict`. Applies it to the proxy.
    private func saving(_ conflict: String, _ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let error as StorageError where error.code == .conflict {
            throw AdminError(.conflict, code: "conflict", conflict.isEmpty ? error.message : conflict)
        }
        try await access?.reload()
    }

    /// A budget with its current period's figures: live from the proxy when running, else from the rollups.
    func view(_ budget: Budget) async throws -> BudgetView {
        if let live = access?.ledger.account(budget.id), live.budget == budget { return BudgetView(live) }
        let start = budget.period.start(containing: clock())
        let spent = try await store.spentNanos(budget, sinceMs: start)
        return BudgetView(BudgetLedger.Account(budget: budget, periodStartMs: start, spentNanos: spent, reservedNanos: 0, fired: []))
    }
}

/// Recognises the hosts of link-local and cloud metadata endpoints however they are written.
enum WebhookHost {
    static func isMetadata(_ rawHost: String) -> Bool {
        var host = rawHost.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if ["metadata.google.internal", "metadata", "metadata.azure.com", "instance-data"].contains(host) { return true }
        var v4 = in_addr()
        // inet_aton reads what resolvers read: decimal, hex and octal parts, fewer than four parts.
        if inet_aton(host, &v4) != 0 { return isLinkLocal(UInt32(bigEndian: v4.s_addr)) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10
        if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {  // ::ffff:a.b.c.d
            return isLinkLocal(UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15]))
        }
        // AWS's IPv6 metadata endpoint, fd00:ec2::254.
        return bytes == [0xFD, 0, 0x0E, 0xC2] + Array(repeating: 0, count: 10) + [0x02, 0x54]
    }

    /// 169.254.0.0/16.
    private static func isLinkLocal(_ address: UInt32) -> Bool { address >> 16 == 0xA9FE }
}
