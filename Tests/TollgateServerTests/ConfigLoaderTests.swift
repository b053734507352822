import Foundation
import Testing
import TollgateStorage
@testable import TollgateServer
import TollgateCore

@Suite("Configuration precedence: flags > environment > file > defaults")
struct ConfigLoaderTests {
    @Test("with nothing given, the SPEC defaults apply")
    func defaults() throws {
        let config = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: nil)
        #expect(config.listen == "127.0.0.1:8080")
        #expect(config.databasePath == "./tollgate.db")
        #expect(config.allowPassthrough)
        #expect(!config.cacheEnabled)
        #expect(config.timeouts.connectMs == 10_000)
        #expect(config.timeouts.firstByteMs == 300_000)
        #expect(config.flushMs == 100)
        #expect(config.providers.map(\.name).contains("fireworks"))
    }

    @Test("limits and keys.unmetered_paths: file, environment over file, and clear errors")
    func limits() throws {
        let yaml = """
            limits: {max_connections: 500, header_timeout: 2.5, body_timeout: 30, keepalive_timeout: 5, max_attribution_length: 64, max_orgs: 10}
            keys:
              unmetered_paths:
                "*": ["/v1/moderations*"]
                key_abc: ["/v1/images/*", "/v1/files"]
            """
        let config = try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_HEADER_TIMEOUT": "1"], yaml: yaml)
        #expect(config.limits.maxConnections == 500)
        #expect(config.limits.headerTimeoutMs == 1000)
        #expect(config.limits.bodyTimeoutMs == 30_000)
        #expect(config.limits.keepAliveTimeoutMs == 5000)
        #expect(config.limits.maxAttributionLength == 64)
        #expect(config.limits.maxOrgs == 10)
        #expect(config.keyUnmeteredPaths == ["*": ["/v1/moderations*"], "key_abc": ["/v1/images/*", "/v1/files"]])
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(), environment: [:], yaml: "limits: {max_orgs: 0}") }
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(), environment: [:], yaml: "keys: {unmetered_paths: {k: [v1/files]}}") }
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(), environment: [:], yaml: "limits: {slowloris: 1}") }
    }

    @Test("a flag beats the environment, which beats the file")
    func precedence() throws {
        let yaml = """
            listen: 0.0.0.0:7000
            db: /file.db
            allow_passthrough: false
            timeouts: {connect: 3, first_byte: 4.5}
            cache: {enabled: true, ttl: 60}
            """
        let env = ["TOLLGATE_LISTEN": "127.0.0.1:7001", "TOLLGATE_DB": "/env.db", "TOLLGATE_FIRST_BYTE_TIMEOUT": "2"]
        let config = try ConfigLoader.merge(flags: .init(listen: "127.0.0.1:7002"), environment: env, yaml: yaml)
        #expect(config.listen == "127.0.0.1:7002")
        #expect(config.databasePath == "/env.db")
        #expect(!config.allowPassthrough)
        #expect(config.timeouts.connectMs == 3000)
        #expect(config.timeouts.firstByteMs == 2000)
        #expect(config.cacheEnabled)
        #expect(config.cacheTTLSeconds == 60)
    }

    @Test("providers: env overrides a built-in's URL and defines new ones with a format")
    func providers() throws {
        let yaml = """
            providers:
              local: {base_url: "http://127.0.0.1:9100", format: anthropic}
            """
        let env = [
            "TOLLGATE_OPENAI_BASE_URL": "http://127.0.0.1:9000/", "TOLLGATE_OPENAI_API_KEY": "sk-secret",
            "TOLLGATE_MYLLM_BASE_URL": "http://127.0.0.1:9200", "TOLLGATE_MYLLM_FORMAT": "openai",
        ]
        let config = try ConfigLoader.merge(flags: .init(), environment: env, yaml: yaml)
        let byName = Dictionary(uniqueKeysWithValues: config.providers.map { ($0.name, $0) })
        #expect(byName["openai"]?.baseURL == "http://127.0.0.1:9000")
        #expect(byName["openai"]?.apiKey == "sk-secret")
        #expect(byName["openai"]?.format == .openai)
        #expect(byName["myllm"]?.format == .openai)
        #expect(byName["local"]?.format == .anthropic)
    }

    @Test("a provider variable without its base URL defines nothing: TOLLGATE_LOG_FORMAT is the log format")
    func ownSettingsAreNoProviders() throws {
        let env = ["TOLLGATE_LOG_FORMAT": "json", "TOLLGATE_NOPE_API_KEY": "k", "TOLLGATE_AZURE_BASE_URL": "https://r.openai.azure.com"]
        let config = try ConfigLoader.merge(flags: .init(), environment: env, yaml: nil)
        #expect(config.logFormat == .json)
        #expect(!config.providers.contains { $0.name == "log" || $0.name == "nope" })
        #expect(config.providers.first { $0.name == "azure" }?.format == .azure)
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_LOG_FORMAT": "xml"], yaml: nil) }
    }

    @Test("Bedrock: the region names the endpoint and signs; access keys come as a pair; nothing set, no provider")
    func bedrock() throws {
        func load(_ env: [String: String]) throws -> TollgateConfig { try ConfigLoader.merge(flags: .init(), environment: env, yaml: nil) }
        #expect(try load([:]).providers.contains { $0.name == "bedrock" } == false)
        let config = try load([
            "TOLLGATE_BEDROCK_REGION": "eu-west-1", "TOLLGATE_BEDROCK_ACCESS_KEY_ID": "AKIA1", "TOLLGATE_BEDROCK_SECRET_ACCESS_KEY": "s3cret",
        ])
        let provider = try #require(config.providers.first { $0.name == "bedrock" })
        #expect(provider.baseURL == "https://bedrock-runtime.eu-west-1.amazonaws.com" && provider.format == .bedrock)
        let settings = try JSONDecoder().decode(AWSSignatureCredential.Settings.self, from: Data(try #require(provider.apiKey).utf8))
        #expect(settings == .init(region: "eu-west-1", credentials: .init(accessKeyID: "AKIA1", secretAccessKey: "s3cret")))
        let mocked = try load(["TOLLGATE_BEDROCK_BASE_URL": "http://127.0.0.1:9", "TOLLGATE_BEDROCK_REGION": "us-east-1", "TOLLGATE_BEDROCK_API_KEY": "abk"])
        #expect(mocked.providers.first { $0.name == "bedrock" }.map { ($0.baseURL, $0.apiKey) } ?? ("", nil) == ("http://127.0.0.1:9", "abk"))
        for bad in [["TOLLGATE_BEDROCK_ACCESS_KEY_ID": "AKIA1", "TOLLGATE_BEDROCK_SECRET_ACCESS_KEY": "s"],
                    ["TOLLGATE_BEDROCK_REGION": "us-east-1", "TOLLGATE_BEDROCK_ACCESS_KEY_ID": "AKIA1"],
                    ["TOLLGATE_BEDROCK_REGION": "us-east-1/../x", "TOLLGATE_BEDROCK_API_KEY": "k"]] {
            #expect(throws: ConfigError.self) { try load(bad) }
        }
    }

    @Test("OpenTelemetry: the OTEL_* variables, /v1/traces under the endpoint, protobuf refused, SDK switch")
    func tracing() throws {
        func load(_ env: [String: String]) throws -> TracingSettings? {
            try ConfigLoader.merge(flags: .init(), environment: env, yaml: nil).tracing
        }
        #expect(try load([:]) == nil)
        let settings = try #require(try load([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:pw@collector:4318/", "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=abc%2Cdef, x-b=2",
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=gw,deployment.environment=prod", "OTEL_BSP_SCHEDULE_DELAY": "250",
        ]))
        #expect(settings.tracesURL == "https://user:pw@collector:4318/v1/traces")
        #expect(settings.displayURL == "https://user:***@collector:4318/v1/traces")
        #expect(settings.headers == [.init(key: "x-honeycomb-team", value: "abc,def"), .init(key: "x-b", value: "2")])
        #expect(settings.serviceName == "gw" && settings.resource == [.init(key: "deployment.environment", value: "prod")])
        #expect(settings.scheduleDelayMs == 250 && settings.maxBatchSize == 512)
        #expect(try load(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c/t", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored"])?.tracesURL == "http://c/t")
        #expect(try load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_SDK_DISABLED": "true"]) == nil)
        #expect(throws: ConfigError.self) { try load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]) }
        #expect(throws: ConfigError.self) { try load(["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"]) }
        #expect(throws: ConfigError.self) { try load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_BSP_MAX_QUEUE_SIZE": "0"]) }
    }

    @Test("SPEC §13 settings: audit retention and the org-level alerts, file and environment")
    func analyticsSettings() throws {
        let defaults = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: nil)
        #expect(defaults.retention.auditDays == 2555 && defaults.alertErrorRateBP == 2000 && defaults.alertCheckSeconds == 60)
        let yaml = """
            retention: {audit_days: 400}
            alerts: {error_rate: 0.35, check_seconds: 15}
            """
        let file = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: yaml)
        #expect(file.retention.auditDays == 400 && file.alertErrorRateBP == 3500 && file.alertCheckSeconds == 15)
        let env = try ConfigLoader.merge(
            flags: .init(), environment: ["TOLLGATE_RETENTION_AUDIT_DAYS": "0", "TOLLGATE_ALERT_ERROR_RATE": "0.05"], yaml: yaml)
        #expect(env.retention.auditDays == 0 && env.alertErrorRateBP == 500)
        #expect(env.retention.cutoffs(nowMs: 1_000_000).audit == nil, "0 keeps the audit log forever")
        for bad in ["0", "1.5", "abc", "0.00001"] {
            #expect(throws: ConfigError.self, "\(bad)") { try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_ALERT_ERROR_RATE": bad], yaml: nil) }
        }
    }

    @Test("analytics.rollup_tags and rollup_tag_values: file and environment, names as headers store them, bad ones named")
    func rollupTagSettings() throws {
        let defaults = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: nil)
        #expect(defaults.rollupTags == TagRollupSettings(names: [], maxValues: 1000))
        let yaml = "analytics: {rollup_tags: [feature, Agent, feature], rollup_tag_values: 50}"
        let file = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: yaml)
        #expect(file.rollupTags == TagRollupSettings(names: ["feature", "agent"], maxValues: 50))
        let env = try ConfigLoader.merge(
            flags: .init(), environment: ["TOLLGATE_ROLLUP_TAGS": "prompt, team-x", "TOLLGATE_ROLLUP_TAG_VALUES": "7"], yaml: yaml)
        #expect(env.rollupTags == TagRollupSettings(names: ["prompt", "team-x"], maxValues: 7))
        for (environment, yaml, named) in [
            (["TOLLGATE_ROLLUP_TAGS": "feat ure"], nil, "TOLLGATE_ROLLUP_TAGS"),
            ([:], "analytics: {rollup_tags: feature}", "analytics.rollup_tags"),
            ([:], "analytics: {rollup_tag_values: 0}", "analytics.rollup_tag_values"),
            (["TOLLGATE_ROLLUP_TAGS": (0...20).map { "t\($0)" }.joined(separator: ",")], nil, "at most 20"),
        ] as [([String: String], String?, String)] {
            do {
                _ = try ConfigLoader.merge(flags: .init(), environment: environment, yaml: yaml)
                Issue.record("accepted \(environment) \(yaml ?? "")")
            } catch {
                #expect("\(error)".contains(named), "\(error)")
            }
        }
    }

    @Test("a provider cannot take a path Tollgate answers itself")
    func reservedProviderNames() {
        for name in ["tollgate", "admin", "dashboard", "metrics"] {
            do {
                _ = try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_\(name.uppercased())_BASE_URL": "http://127.0.0.1:9"], yaml: nil)
                Issue.record("accepted a provider named \(name)")
            } catch {
                #expect("\(error)".contains("reserved"), "\(error)")
            }
        }
    }

    @Test("bad settings fail with a message naming the setting")
    func errors() {
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(listen: "8080"), environment: [:], yaml: nil) }
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_CACHE": "maybe"], yaml: nil) }
        #expect(throws: ConfigError.self) { try ConfigLoader.merge(flags: .init(), environment: [:], yaml: "listn: x") }
        #expect(throws: ConfigError.self) {
            try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_NEW_BASE_URL": "ftp://x"], yaml: nil)
        }
        do {
            _ = try ConfigLoader.merge(flags: .init(), environment: ["TOLLGATE_IDLE_TIMEOUT": "-1"], yaml: nil)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("TOLLGATE_IDLE_TIMEOUT"))
        }
    }
}
