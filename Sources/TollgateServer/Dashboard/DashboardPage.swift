import Foundation

/// The dashboard (`GET /dashboard`): summary cards, the spend trend, top keys, users and models,
/// budgets and recent alerts for the filters given, rendered on the server as one HTML document
/// with inline CSS and SVG. Every figure sits in an element whose `data-field` names the API
/// member it shows, holding the API's exact text, so a test reads the numbers `/admin/stats` answers.
struct DashboardPage {
    var data: DashboardData
    var principal: AdminPrincipal
    /// How long reading the figures took, shown in the footer.
    var loadMs: Double

    func render() -> String {
        var body = header()
        body += "<main>"
        body += filterBar()
        body += cards()
        body += trend()
        body += #"<section class="grid3">"#
        body += topTable("Top keys", id: "top-keys", dimension: "key", data.topKeys, names: data.keyNames)
        body += topTable("Top users", id: "top-users", dimension: "user", data.topUsers)
        body += topTable("Top models", id: "top-models", dimension: "model", data.topModels)
        body += topTable("Teams", id: "top-teams", dimension: "team", data.topTeams)
        body += topTable("Departments", id: "top-departments", dimension: "department", data.topDepartments)
        body += topTable("Providers", id: "top-providers", dimension: "provider", data.topProviders)
        if let orgs = data.topOrgs { body += topTable("Orgs", id: "top-orgs", dimension: "org", orgs) }
        body += "</section>"
        body += errors()
        body += budgets()
        body += alerts()
        body += "</main>"
        body += #"<footer>Figures read in <span data-field="server_ms">\#(String(format: "%.1f", loadMs))</span> ms from the rollups, through the same code as <code>/admin/stats</code>.</footer>"#
        return Self.document(title: "Tollgate dashboard", body: body)
    }

    /// A whole HTML document around `body`, with the inline stylesheet.
    static func document(title: String, body: String) -> String {
        #"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">"#
            + "<title>\(HTML.escape(title))</title><style>\(DashboardStyle.css)</style></head><body>\(body)</body></html>"
    }

    /// An error page inside the dashboard's frame (a bad filter, an org the admin may not see).
    static func error(_ message: String) -> String {
        document(
            title: "Tollgate dashboard",
            body: #"<main><p class="error" id="page-error" role="alert">\#(HTML.escape(message))</p><p><a href="/dashboard">Back to the dashboard without filters</a></p></main>"#)
    }

    // MARK: Parts

    private func header() -> String {
        let who: String = switch principal {
        case .master: "master admin · all orgs"
        case .orgAdmin(let org): "org admin · " + org
        }
        var html = "<header><div><h1>Tollgate</h1>"
        html += #"<div class="muted"><span id="principal">\#(HTML.escape(who))</span> · <span data-field="from">\#(HTML.escape(data.summary.period.from))</span> → <span data-field="to">\#(HTML.escape(data.summary.period.to))</span></div></div>"#
        html += #"<form method="post" action="/dashboard/logout"><button type="submit" id="sign-out">Sign out</button></form></header>"#
        return html
    }

    private func filterBar() -> String {
        var html = #"<section><div class="chips" id="filters">"#
        if data.filters.isEmpty {
            html += #"<span class="muted">All traffic of the last 30 days. Click a key, user or model to drill down.</span>"#
        } else {
            for (name, value) in data.filters {
                html += #"<span class="chip" data-filter="\#(HTML.escape(name))">\#(HTML.escape(name)) = <b>\#(HTML.escape(value))</b> <a href="\#(HTML.escape(link(without: name)))" title="Remove this filter">×</a></span>"#
            }
            html += #"<a href="/dashboard" id="clear-filters">clear all</a>"#
        }
        html += #"</div><details><summary class="muted">Filters</summary><form class="filters" method="get" action="/dashboard">"#
        let values = Dictionary(data.filters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        for name in DashboardData.filterNames where name != "tz" && name != "order" {
            let hint = name == "from" || name == "to" ? "7d, 24h or 2026-11-21" : "any"
            html += #"<label>\#(name)<input name="\#(name)" value="\#(HTML.escape(values[name] ?? ""))" placeholder="\#(hint)" size="14"></label>"#
        }
        let zone = values["tz"] ?? "UTC"
        html += #"<label>time zone<select name="tz" id="tz">"#
        for option in Set(DashboardData.zones + [zone]).sorted() {
            html += #"<option\#(option == zone ? " selected" : "")>\#(HTML.escape(option))</option>"#
        }
        html += "</select></label>"
        if let order = values["order"] { html += #"<input type="hidden" name="order" value="\#(HTML.escape(order))">"# }
        for (name, value) in data.filters where name.hasPrefix("tag.") {
            html += #"<input type="hidden" name="\#(HTML.escape(name))" value="\#(HTML.escape(value))">"#
        }
        html += #"<button class="primary" type="submit">Apply</button></form></details>"#
        let exportQuery = HTML.query(data.filters.filter { $0.name != "order" }.map { ($0.name, $0.value) })
        html += #"<p><a id="export" href="/dashboard/export\#(exportQuery.isEmpty ? "" : "?" + HTML.escape(exportQuery))">Download these requests (CSV)</a></p></section>"#
        return html
    }

    private func cards() -> String {
        let s = data.summary.period.fields
        var html = #"<section class="cards" id="summary">"#
        html += card("Spend", "$" + field("cost_usd", s.costUSD), sub: "charged $\(field("charged_usd", s.chargedUSD)) · profit $\(field("profit_usd", s.profitUSD))")
        html += card(
            "Savings", "$" + field("savings_usd", s.savingsUSD),
            sub: "\(field("savings_pct", s.savingsPct))% of $\(field("potential_cost_usd", s.potentialCostUSD)) · prompt cache $\(field("prompt_cache_savings_usd", s.promptCacheSavingsUSD))")
        html += card(
            "Requests", field("requests", s.requests),
            sub: "ok \(field("ok_requests", s.okRequests)) · errors \(field("error_requests", s.errorRequests)) · blocked \(field("blocked_requests", s.blockedRequests)) · unpriced \(field("unpriced_requests", s.unpricedRequests))")
        html += card(
            "Cache hit rate", #"<span class="num" data-field="cache_hit_pct">\#(String(format: "%.1f", s.cacheHitRate * 100))</span>%"#,
            sub: "\(field("cached_requests", s.cachedRequests)) cached · rate \(field("cache_hit_rate", s.cacheHitRate))")
        html += card("Tokens in / out", field("input_tokens", s.inputTokens) + " / " + field("output_tokens", s.outputTokens),
                     sub: "cached \(field("cached_input_tokens", s.cachedInputTokens)) · written \(field("cache_write_tokens", s.cacheWriteTokens)) · reasoning \(field("reasoning_tokens", s.reasoningTokens))")
        html += card("Latency p95", field("p95_latency_ms", s.p95LatencyMs) + " ms",
                     sub: "p50 \(field("p50_latency_ms", s.p50LatencyMs)) · p99 \(field("p99_latency_ms", s.p99LatencyMs)) · avg \(field("avg_latency_ms", s.avgLatencyMs)) ms")
        return html + "</section>"
    }

    private func card(_ label: String, _ value: String, sub: String) -> String {
        #"<div class="card"><div class="label">\#(HTML.escape(label))</div><div class="value">\#(value)</div><div class="sub">\#(sub)</div></div>"#
    }

    /// Spend, and beside it what the response cache saved (with the hit rate of the range).
    private func trend() -> String {
        let per = data.trend.granularity == .hour ? "hour" : "day"
        let zone = HTML.escape(data.trend.tz)
        let spend = SVGBarChart(bars: DashboardTrend.bars(data.trend, \.costUSD), title: "Spend per \(per)")
        let saved = SVGBarChart(bars: DashboardTrend.bars(data.trend, \.savingsUSD), title: "Saved by the cache per \(per)")
        let rate = String(format: "%.1f", data.summary.period.fields.cacheHitRate * 100)
        var html = #"<section class="grid3">"#
        html += #"<div class="panel" id="trend"><h2>Spend per \#(per) (\#(zone))</h2>\#(spend.render())</div>"#
        html += #"<div class="panel" id="savings-trend"><h2>Saved by the cache per \#(per) (\#(zone)) · hit rate \#(rate)%</h2>\#(saved.render())</div>"#
        return html + "</section>"
    }

    // MARK: Helpers

    /// The value of the API's member `name` (money as its exact digits), in an element a test can find.
    func field(_ name: String, _ value: some CustomStringConvertible) -> String {
        #"<span class="num" data-field="\#(name)">\#(HTML.escape(value.description))</span>"#
    }

    /// This page's URL with filter `name` set to `value` (the drill-down links).
    func link(setting name: String, to value: String) -> String {
        var pairs = data.filters.filter { $0.name != name }.map { ($0.name, $0.value) }
        pairs.append((name, value))
        let order = Dictionary(uniqueKeysWithValues: DashboardData.filterNames.enumerated().map { ($1, $0) })
        pairs.sort { (order[$0.0] ?? 99, $0.0) < (order[$1.0] ?? 99, $1.0) }
        return "/dashboard?" + HTML.query(pairs)
    }

    /// This page's URL without filter `name`.
    func link(without name: String) -> String {
        let pairs = data.filters.filter { $0.name != name }.map { ($0.name, $0.value) }
        return pairs.isEmpty ? "/dashboard" : "/dashboard?" + HTML.query(pairs)
    }
}
