/// The sign-in form shown at `/dashboard` to a browser without a live session.
enum DashboardLoginPage {
    /// The page; `error` (plain text) is shown above the form.
    static func render(error: String? = nil) -> String {
        var body = #"<form class="login" method="post" action="/dashboard/login" id="login-form">"#
        body += "<h1>Tollgate dashboard</h1>"
        body += #"<p class="muted">Sign in with the admin key (<code>TOLLGATE_ADMIN_KEY</code>) or an admin-role Tollgate key (<code>tg_…</code>).</p>"#
        if let error { body += #"<p class="error" id="login-error" role="alert">\#(HTML.escape(error))</p>"# }
        body += #"<label for="admin-key">Admin key</label>"#
        body += #"<input id="admin-key" name="key" type="password" autocomplete="current-password" required autofocus>"#
        body += #"<button class="primary" type="submit" id="sign-in">Sign in</button>"#
        body += "</form>"
        return DashboardPage.document(title: "Sign in · Tollgate", body: body)
    }
}
