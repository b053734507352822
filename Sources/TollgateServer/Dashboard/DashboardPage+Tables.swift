import Foundation

/// The dashboard's tables: top-N breakdowns with drill-down links, budgets with utilisation
/// bars, and the most recent alerts.
extension DashboardPage {
    /// A `/admin/stats/breakdown` answer as a table; each named group links to the page filtered by
    /// it, and the column headers re-order every top table (`order`). Keys show their names.
    func topTable(_ title: String, id: String, dimension: String, _ answer: BreakdownAnswer, names: [String: String] = [:]) -> String {
        var html = #"<div class="panel" id="\#(id)"><h2>\#(HTML.escape(title)) <span class="muted">(<span data-field="groups">\#(answer.groups)</span>)</span></h2>"#
        let rows = answer.data
        guard !rows.isEmpty else { return html + #"<p class="muted">No traffic.</p></div>"# }
        html += #"<table><thead><tr><th>\#(dimension)</th>\#(sortHeader("requests", .requests))\#(sortHeader("cost $", .cost))<th class="n">saved $</th>\#(sortHeader("tokens", .tokens))</tr></thead><tbody>"#
        for row in rows {
            let group = row.group
            let name = group.map { #"<a href="\#(HTML.escape(link(setting: dimension, to: $0)))">\#(HTML.escape(names[$0].map { "\($0) · " } ?? ""))\#(HTML.escape($0))</a>"# } ?? #"<span class="muted">(none)</span>"#
            html += #"<tr data-group="\#(HTML.escape(group ?? ""))"><td class="name" title="\#(HTML.escape(group ?? "(none)"))">\#(name)</td>"#
            html += #"<td class="n">\#(field("requests", row.fields.requests))</td><td class="n">\#(field("cost_usd", row.fields.costUSD))</td><td class="n">\#(field("savings_usd", row.fields.savingsUSD))</td><td class="n">\#(field("total_tokens", row.fields.totalTokens))</td></tr>"#
        }
        return html + "</tbody></table></div>"
    }

    /// A column header that orders the top tables by it (the current order marked ▼).
    func sortHeader(_ label: String, _ order: BreakdownOrder) -> String {
        let current = data.order == order
        return #"<th class="n"><a class="sort" data-order="\#(order.rawValue)" href="\#(HTML.escape(link(setting: "order", to: order.rawValue)))"\#(current ? #" aria-sort="descending""# : "")>\#(HTML.escape(label))\#(current ? " ▼" : "")</a></th>"#
    }

    /// `/admin/stats/errors`: what failed, where, how often, and the latest message.
    func errors() -> String {
        let answer = data.errors
        var html = #"<section class="panel" id="errors"><h2>Errors <span class="muted">(<span data-field="failed_requests">\#(answer.failedRequests)</span> of \#(answer.requests) · rate <span data-field="error_rate">\#(answer.errorRate)</span>)</span></h2>"#
        guard !answer.data.isEmpty else { return html + #"<p class="muted">No failed or refused requests.</p></section>"# }
        html += #"<table><thead><tr><th>outcome</th><th class="n">status</th><th>provider</th><th>model</th><th class="n">requests</th><th class="n">share</th><th>latest</th><th>message</th></tr></thead><tbody>"#
        for row in answer.data {
            html += #"<tr data-error="\#(HTML.escape(row.outcome))"><td><a href="\#(HTML.escape(link(setting: "outcome", to: row.outcome)))">\#(HTML.escape(row.outcome))</a></td>"#
            html += #"<td class="n">\#(row.status)</td><td>\#(HTML.escape(row.provider))</td><td>\#(HTML.escape(row.model))</td>"#
            html += #"<td class="n">\#(field("requests", row.requests))</td><td class="n">\#(field("share", row.share))</td>"#
            html += #"<td>\#(HTML.escape(row.latestAt ?? "—"))</td><td>\#(HTML.escape(row.latestError ?? "—"))</td></tr>"#
        }
        return html + "</tbody></table></section>"
    }

    /// `/admin/budgets`: spent and reserved against the limit of the current period.
    func budgets() -> String {
        var html = #"<section class="panel" id="budgets"><h2>Budgets</h2>"#
        let rows = data.budgets.data
        guard !rows.isEmpty else { return html + #"<p class="muted">No budgets. Create one with <code>POST /admin/budgets</code>.</p></section>"# }
        html += #"<table><thead><tr><th>scope</th><th>period</th><th>utilisation</th><th class="n">spent $</th><th class="n">reserved $</th><th class="n">limit $</th><th class="n">remaining $</th><th>action</th></tr></thead><tbody>"#
        for budget in rows {
            let filter = budget.scope == "key" ? "key" : budget.scope == "team" ? "team" : "org"
            let (spent, reserved, limit) = (budget.spentUSD.nanos, budget.reservedUSD.nanos, budget.limitUSD.nanos)
            let (spentPct, reservedPct) = Self.meter(spent: Double(spent), reserved: Double(reserved), limit: Double(limit))
            let utilisation = limit > 0 ? Double(spent) / Double(limit) * 100 : (spent > 0 ? 100 : 0)
            let level = utilisation >= 100 ? " over" : utilisation >= 80 ? " high" : ""
            html += #"<tr data-budget="\#(HTML.escape(budget.id))">"#
            html += #"<td>\#(HTML.escape(budget.scope)) <a href="\#(HTML.escape(link(setting: filter, to: budget.scopeID)))">\#(HTML.escape(budget.scopeID))</a></td>"#
            html += #"<td>\#(HTML.escape(budget.period))</td>"#
            html += #"<td><div class="meter" title="spent \#(String(format: "%.1f", utilisation))% of the limit"><div class="spent\#(level)" style="width:\#(String(format: "%.2f", spentPct))%"></div><div class="reserved" style="width:\#(String(format: "%.2f", reservedPct))%"></div></div>"#
            html += #"<span class="muted"><span class="num" data-field="utilisation_pct">\#(String(format: "%.1f", utilisation))</span>%</span></td>"#
            for (name, value) in [("spent_usd", budget.spentUSD), ("reserved_usd", budget.reservedUSD), ("limit_usd", budget.limitUSD), ("remaining_usd", budget.remainingUSD)] {
                html += #"<td class="n">\#(field(name, value))</td>"#
            }
            html += #"<td>\#(HTML.escape(budget.action)) · \#(HTML.escape(budget.enforcement))</td></tr>"#
        }
        return html + "</tbody></table></section>"
    }

    /// The widths (percent of the bar) of the spent and reserved segments: spent first, reserved
    /// after it, together never past 100.
    static func meter(spent: Double, reserved: Double, limit: Double) -> (spent: Double, reserved: Double) {
        guard limit > 0 else { return (spent > 0 ? 100 : 0, 0) }
        let spentPct = min(max(spent / limit * 100, 0), 100)
        return (spentPct, min(max(reserved / limit * 100, 0), 100 - spentPct))
    }

    /// `/admin/alerts`: the most recent, with delivery status.
    func alerts() -> String {
        var html = #"<section class="panel" id="alerts"><h2>Recent alerts</h2>"#
        let rows = data.alerts.data
        guard !rows.isEmpty else { return html + #"<p class="muted">No alerts have fired.</p></section>"# }
        html += #"<table><thead><tr><th>fired at</th><th>kind</th><th class="n">threshold</th><th>budget</th><th>delivered</th><th class="n">attempts</th><th>message</th></tr></thead><tbody>"#
        for alert in rows {
            html += #"<tr data-alert="\#(HTML.escape(alert.id))"><td>\#(field("fired_at", alert.firedAt))</td>"#
            html += #"<td data-field="kind">\#(HTML.escape(alert.kind))</td>"#
            html += #"<td class="n">\#(alert.threshold.map { field("threshold", $0) } ?? "—")</td>"#
            html += #"<td>\#(HTML.escape(alert.budgetID ?? "—"))</td>"#
            html += #"<td><span class="\#(alert.delivered ? "yes" : "no")" data-field="delivered">\#(alert.delivered ? "true" : "false")</span></td>"#
            html += #"<td class="n">\#(field("attempts", alert.attempts))</td><td>\#(HTML.escape(alert.message))</td></tr>"#
        }
        return html + "</tbody></table></section>"
    }
}
