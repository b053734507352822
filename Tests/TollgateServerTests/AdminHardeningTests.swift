import Foundation
import Logging
import Testing
import TollgateCore
@testable import TollgateServer
import TollgateStorage

@Suite("Admin hardening: CSV cells, tag names, time bounds, error mapping, config")
struct AdminHardeningTests {
    @Test("text cells that a spreadsheet would run as a formula get a leading quote inside a quoted cell")
    func csvFormulas() {
        #expect(UsageEventExport.csvField(#""=HYPERLINK(\"http://x\",\"y\")""#) == #""'=HYPERLINK(""http://x"",""y"")""#)
        for start in ["=1+1", "+1", "-1", "@SUM(A1)", "\t1", "\r1"] {
            let json = JSONText.quoted(start)
            #expect(UsageEventExport.csvField(json) == "\"'" + start + "\"", "\(start.debugDescription)")
        }
        // Numbers, negative money included, booleans and nulls are not text.
        #expect(UsageEventExport.csvField("-0.5") == "-0.5")
        #expect(UsageEventExport.csvField("-12") == "-12")
        #expect(UsageEventExport.csvField("true") == "true")
        #expect(UsageEventExport.csvField("null") == "")
        // Ordinary text as before; quoted only when RFC 4180 needs it.
        #expect(UsageEventExport.csvField(JSONText.quoted("alice")) == "alice")
        #expect(UsageEventExport.csvField(JSONText.quoted("a,b")) == "\"a,b\"")
        #expect(UsageEventExport.csvField(JSONText.quoted("a\r\nb")) == "\"a\r\nb\"")
        #expect(UsageEventExport.csvField(JSONText.quoted("x=1")) == "x=1")
    }

    @Test("a whole row: formula text escaped, money and tokens stay numbers")
    func csvRow() {
        let event = UsageEvent(
            requestID: "r1", startedAtMs: 0, org: "acme", keyID: "key_1", user: "=cmd|' /C calc'!A0", session: "@x",
            tags: ["feature": "=1"], provider: "openai", endpoint: .chat, model: "-model", status: 200, outcome: .ok,
            usage: Usage(inputTokens: 10, outputTokens: 5), costNanos: -500_000_000, chargedNanos: -500_000_000,
            error: "+oops")
        let row = UsageEventExport.csvRow(event)
        let cells = row.dropLast(1).components(separatedBy: ",")
        let index = { (name: String) in UsageEventExport.fields.firstIndex(of: name)! }
        #expect(cells[index("user")] == #""'=cmd|' /C calc'!A0""#)
        #expect(cells[index("session")] == "\"'@x\"")
        #expect(cells[index("model")] == "\"'-model\"")
        #expect(cells[index("error")] == "\"'+oops\"")
        #expect(cells[index("cost_usd")] == "-0.5")
        #expect(cells[index("input_tokens")] == "10")
        #expect(cells[index("tags")].hasPrefix("\"{"))
    }

    @Test("tag names: lower-case slugs up to 64 characters")
    func tagNames() {
        for good in ["feature", "prompt_type", "agent-2", "a", "9lives", String(repeating: "x", count: 64)] {
            #expect(TagName.isValid(good), "\(good)")
        }
        for bad in ["", "a'b", "a\"b", "a\\b", "Feature", "-x", "_x", "a b", "a.b", "a;b", String(repeating: "x", count: 65)] {
            #expect(!TagName.isValid(bad), "\(bad)")
        }
    }

    @Test("a bad tag in a filter or a breakdown is a 400 naming the field")
    func tagQueries() throws {
        #expect(throws: InvalidQuery.self) { try StatsQuery(QueryParameters(["tag.a'b": "x"])) }
        #expect(throws: InvalidQuery.self) { try StatsQuery(QueryParameters(["tag.": "x"])) }
        let query = try StatsQuery(QueryParameters(["tag.Feature": "chat", "tag.a-b": "y"]))
        #expect(query.tags == ["feature": "chat", "a-b": "y"])
        do {
            _ = try StatsDimension.parsing("tag.a'b", field: "by")
            Issue.record("accepted a bad tag")
        } catch {
            #expect(error.message.hasPrefix("'by'"))
        }
        #expect(try StatsDimension.parsing("tag.feature", field: "group_by") == .tag("feature"))
    }

    @Test("a webhook may not point at a link-local or metadata address, however it is spelled")
    func webhookHosts() {
        for host in ["169.254.169.254", "2852039166", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376", "169.254.1", "[::ffff:169.254.169.254]",
                     "[fe80::1]", "[fd00:ec2::254]", "[fd00:ec2:0::254]", "metadata.google.internal.", "METADATA.GOOGLE.INTERNAL", "metadata"] {
            #expect(WebhookHost.isMetadata(host), "\(host)")
        }
        for host in ["hooks.slack.com", "10.0.0.5", "127.0.0.1", "[::1]", "169.255.0.1", "example.com."] {
            #expect(!WebhookHost.isMetadata(host), "\(host)")
        }
    }

    @Test("a threshold that rounds to 0 basis points is refused, not stored as 0")
    func tinyThresholds() throws {
        for list in [[0.00004], [.leastNonzeroMagnitude], [0.0], [-0.5], [10.5]] as [[Double]] {
            #expect(throws: AdminError.self, "\(list)") { try AdminInput(["thresholds": list]).fractions("thresholds") }
        }
        #expect(try AdminInput(["thresholds": [0.0001, 0.5, 10]]).fractions("thresholds") == [1, 5000, 100_000])
    }

    @Test("times beyond years 1583-9999, or overflowing, are refused instead of trapping")
    func timeBounds() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for text in ["99999999999999999d", "9223372036854775807w", "9223372036854775807s", "999999999999d", "10000-01-01"] {
            #expect(throws: InvalidQuery.self, "\(text)") { try TimeRange.parse(from: text, to: nil, now: now) }
        }
        let range = try TimeRange.parse(from: "3650d", to: nil, now: now)
        #expect(range.toMs - range.fromMs == 3650 * 86_400_000)
        #expect(try TimeRange.parse(from: "1600-01-01", to: "9999-12-31", now: now).toMs == 253_402_214_400_000)
        #expect(UTCTime.iso(TimeRange.earliestMs) == "1583-01-01T00:00:00Z")
        // Before the Gregorian calendar, Foundation would read a date in the Julian one.
        #expect(throws: InvalidQuery.self) { try TimeRange.parse(from: "1000-01-01", to: "1000-02-01", now: now) }
        #expect(try TimeRange.parse(from: "1583-01-01", to: "1583-01-02", now: now).fromMs == TimeRange.earliestMs)
        #expect(UTCTime.iso(TimeRange.latestMs) == "9999-12-31T23:59:59Z")
    }

    @Test("storage failures become JSON answers: 503 when the file is the cause, never an empty body")
    func errorMapping() {
        let logger = Logger(label: "test")
        let locked = AdminError.answering(StorageError(.notWritable, "the database is locked"), logger: logger)
        #expect(locked.status == .serviceUnavailable && locked.code == "database_unavailable")
        #expect(locked.message.contains("writable") && locked.retryAfterSeconds != nil)
        let broken = AdminError.answering(StorageError(.databaseFailed, "usage query failed"), logger: logger)
        #expect(broken.status == .internalError && broken.code == "internal_error")
        let filter = AdminError.answering(StorageError(.invalidFilter, "tag name cannot be queried"), logger: logger)
        #expect(filter.status == .badRequest)
        struct Odd: Error {}
        #expect(AdminError.answering(Odd(), logger: logger).code == "internal_error")
        #expect(AdminError.answering(InvalidQuery("'x' bad"), logger: logger).status == .badRequest)
        let refusal = AdminError.notFound("key", "key_x")
        #expect(AdminError.answering(refusal, logger: logger) == refusal)
    }

    @Test("admin limits: defaults, config file keys, environment, 0 = off, bad values refused")
    func config() throws {
        let defaults = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: nil)
        #expect(defaults.admin.failedAuthPerMinute == 10 && defaults.admin.requestsPerMinute == 600)
        let file = try ConfigLoader.merge(
            flags: .init(), environment: [:], yaml: "admin:\n  failed_auth_per_minute: 3\n  requests_per_minute: 0\n")
        #expect(file.admin.failedAuthPerMinute == 3 && file.admin.requestsPerMinute == 0)
        let env = try ConfigLoader.merge(
            flags: .init(), environment: ["TOLLGATE_ADMIN_REQUESTS_PER_MINUTE": "1200", "TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE": "5"],
            yaml: "admin: {requests_per_minute: 30}")
        #expect(env.admin.requestsPerMinute == 1200 && env.admin.failedAuthPerMinute == 5)
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(), environment: [:], yaml: "admin: {requests_per_min: 3}") }
        #expect(throws: ConfigError.self) {
            try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE": "-1"], yaml: nil)
        }
    }
}
