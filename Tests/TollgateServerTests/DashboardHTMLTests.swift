import Testing
@testable import TollgateServer
import TollgateCore
import Synchronization

@Suite("Dashboard HTML: escaping, form decoding, reading API answers back")
struct DashboardHTMLTests {
    @Test("markup characters from clients become entities, in text and attributes")
    func escapesMarkup() {
        #expect(HTML.escape(#"<script>alert("x") & 'y'</script>"#) == "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;")
        #expect(HTML.escape("gpt-4o-mini") == "gpt-4o-mini")
        #expect(HTML.escape("José 🚀") == "José 🚀")
        #expect(HTML.escape("") == "")
    }

    @Test("drill-down query values are percent-encoded, so & = # and spaces cannot add filters")
    func encodesQueries() {
        #expect(HTML.query([("user", "a&b=c #d"), ("model", "gpt-4o")]) == "user=a%26b%3Dc%20%23d&model=gpt-4o")
        #expect(HTML.percentEncoded("é/+") == "%C3%A9%2F%2B")
    }

    @Test("form values decode + as a space and percent escapes, as browsers send them")
    func decodesForms() {
        let values = HTML.formValues("key=tg_abc%2B%2F&user=John+Smith&empty=&bare")
        #expect(values.map(\.name) == ["key", "user", "empty", "bare"])
        #expect(values.map(\.value) == ["tg_abc+/", "John Smith", "", ""])
    }

    @Test("a page's filters keep only the stats filters, in a stable order, without empty fields")
    func filtersInOrder() {
        let filters = DashboardData.filters([
            ("model", "gpt-4o"), ("granularity", "hour"), ("user", ""), ("tag.feature", "chat"), ("from", "7d"), ("key", "pt_1"),
        ])
        #expect(filters.map(\.name) == ["from", "key", "model", "tag.feature"])
        #expect(filters.map(\.value) == ["7d", "pt_1", "gpt-4o", "chat"])
    }

    @Test("the sign-in form escapes its error and posts the key to /dashboard/login")
    func loginPage() {
        let page = DashboardLoginPage.render(error: "<b>no</b>")
        #expect(page.contains("&lt;b&gt;no&lt;/b&gt;"))
        #expect(!page.contains("<b>no</b>"))
        #expect(page.contains(#"action="/dashboard/login""#))
        #expect(page.contains(#"name="key" type="password""#))
    }

    @Test("budget meters put reserved after spent and never past the bar")
    func meters() {
        #expect(DashboardPage.meter(spent: 2, reserved: 1, limit: 10) == (20, 10))
        #expect(DashboardPage.meter(spent: 9, reserved: 5, limit: 10) == (90, 10))
        #expect(DashboardPage.meter(spent: 12, reserved: 1, limit: 10) == (100, 0))
        #expect(DashboardPage.meter(spent: 1, reserved: 0, limit: 0) == (100, 0))
    }

    @Test("sessions expire, end on sign-out, and tokens are 32 random base62 characters")
    func sessions() {
        let now = Mutex64(1_000)
        let sessions = DashboardSessions(clock: { now.value })
        let token = sessions.create(.orgAdmin("acme"), keyHash: "abc")
        #expect(token.count == 32 && token.allSatisfy { $0.isLetter || $0.isNumber })
        #expect(sessions.session(token)?.principal == .orgAdmin("acme"))
        #expect(sessions.session("nope") == nil)
        let other = sessions.create(.master, keyHash: nil)
        #expect(other != token)
        sessions.end(other)
        #expect(sessions.session(other) == nil)
        now.value += DashboardSessions.lifetimeMs
        #expect(sessions.session(token) == nil)
        #expect(sessions.count == 0)
    }
}

/// A settable clock for the session tests.
final class Mutex64: Sendable {
    private let storage: Synchronization.Mutex<Int64>
    init(_ value: Int64) { storage = .init(value) }
    var value: Int64 {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
