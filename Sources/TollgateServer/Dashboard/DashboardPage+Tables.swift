import Foundation

/// The dashboard's tables: top-N breakdowns with drill-down links, budgets with utilisation
/// bars, and the most recent alerts.
extension DashboardPage {
    /// A `/admin/stats/breakdown` answer as a table; each named group links to the page filtered by it.
    func topTable(_ title: String, id: String, dimension: String, _ answer: JSONObject) -> String {
        var html = #"<div class="panel" id="\#(id)"><h2>\#(HTML.escape(title)) <span class="muted">(<span data-field="groups">\#(HTML.escape(answer.text("groups") ?? "0"))</span>)</span></h2>"#
        let rows = answer.objects("data")
        guard !rows.isEmpty else { return html + #"<p class="muted">No traffic.</p></div>"# }
        html += #"<table><thead><tr><th>\#(dimension)</th><th class="n">requests</th><th class="n">cost $</th><th class="n">saved $</th></tr></thead><tbody>"#
        for row in rows {
            let group = row.text("group")
            let name = group.map { #"<a href="\#(HTML.escape(link(setting: dimension, to: $0)))">\#(HTML.escape($0))</a>"# } ?? #"<span class="muted">(none)</span>"#
            html += #"<tr data-group="\#(HTML.escape(group ?? ""))"><td class="name" title="\#(HTML.escape(group ?? "(none)"))">\#(name)</td>"#
            html += #"<td class="n">\#(field("requests", row))</td><td class="n">\#(field("cost_usd", row))</td><td class="n">\#(field("savings_usd", row))</td></tr>"#
        }
        return html + "</tbody></table></div>"
    }

    /// `/admin/budgets`: spent and reserved against the limit of the current period.
    func budgets() -> String {
        var html = #"<section class="panel" id="budgets"><h2>Budgets</h2>"#
        let rows = data.budgets.objects("data")
        guard !rows.isEmpty else { return html + #"<p class="muted">No budgets. Create one with <code>POST /admin/budgets</code>.</p></section>"# }
        html += #"<table><thead><tr><th>scope</th><th>period</th><th>utilisation</th><th class="n">spent $</th><th class="n">reserved $</th><th class="n">limit $</th><th class="n">remaining $</th><th>action</th></tr></thead><tbody>"#
        for budget in rows {
            let scope = budget.text("scope") ?? ""
            let scopeID = budget.text("scope_id") ?? ""
            let filter = scope == "key" ? "key" : scope == "team" ? "team" : "org"
            let limit = Double(budget.text("limit_usd") ?? "0") ?? 0
            let spent = Double(budget.text("spent_usd") ?? "0") ?? 0
            let reserved = Double(budget.text("reserved_usd") ?? "0") ?? 0
            let (spentPct, reservedPct) = Self.meter(spent: spent, reserved: reserved, limit: limit)
            let utilisation = limit > 0 ? spent / limit * 100 : (spent > 0 ? 100 : 0)
            let level = utilisation >= 100 ? " over" : utilisation >= 80 ? " high" : ""
            html += #"<tr data-budget="\#(HTML.escape(budget.text("id") ?? ""))">"#
            html += #"<td>\#(HTML.escape(scope)) <a href="\#(HTML.escape(link(setting: filter, to: scopeID)))">\#(HTML.escape(scopeID))</a></td>"#
            html += #"<td>\#(HTML.escape(budget.text("period") ?? ""))</td>"#
            html += #"<td><div class="meter" title="spent \#(String(format: "%.1f", utilisation))% of the limit"><div class="spent\#(level)" style="width:\#(String(format: "%.2f", spentPct))%"></div><div class="reserved" style="width:\#(String(format: "%.2f", reservedPct))%"></div></div>"#
            html += #"<span class="muted"><span class="num" data-field="utilisation_pct">\#(String(format: "%.1f", utilisation))</span>%</span></td>"#
            for name in ["spent_usd", "reserved_usd", "limit_usd", "remaining_usd"] { html += #"<td class="n">\#(field(name, budget))</td>"# }
            html += #"<td>\#(HTML.escape(budget.text("action") ?? "")) · \#(HTML.escape(budget.text("enforcement") ?? ""))</td></tr>"#
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
        let rows = data.alerts.objects("data")
        guard !rows.isEmpty else { return html + #"<p class="muted">No alerts have fired.</p></section>"# }
        html += #"<table><thead><tr><th>fired at</th><th>kind</th><th class="n">threshold</th><th>budget</th><th>delivered</th><th class="n">attempts</th><th>message</th></tr></thead><tbody>"#
        for alert in rows {
            let delivered = alert.text("delivered") == "true"
            html += #"<tr data-alert="\#(HTML.escape(alert.text("id") ?? ""))"><td>\#(field("fired_at", alert))</td>"#
            html += #"<td data-field="kind">\#(HTML.escape(alert.text("kind") ?? ""))</td>"#
            html += #"<td class="n">\#(alert.text("threshold") == nil ? "—" : field("threshold", alert))</td>"#
            html += #"<td>\#(HTML.escape(alert.text("budget_id") ?? "—"))</td>"#
            html += #"<td><span class="\#(delivered ? "yes" : "no")" data-field="delivered">\#(delivered ? "true" : "false")</span></td>"#
            html += #"<td class="n">\#(field("attempts", alert))</td><td>\#(HTML.escape(alert.text("message") ?? ""))</td></tr>"#
        }
        return html + "</tbody></table></section>"
    }
}
