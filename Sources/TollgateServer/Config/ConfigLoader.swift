import Foundation
import Logging
import TollgateCore
import Yams

/// Merges settings with SPEC §1's precedence: command-line flags > environment variables >
/// config file (`--config FILE` or `TOLLGATE_CONFIG`) > defaults.
package enum ConfigLoader {
    /// Settings given as command-line flags (nil = not given).
    package struct Flags: Sendable {
        package var listen: String?
        package var config: String?
        package var db: String?
        package var pricing: String?
        package init(listen: String? = nil, config: String? = nil, db: String? = nil, pricing: String? = nil) {
            self.listen = listen
            self.config = config
            self.db = db
            self.pricing = pricing
        }
    }

    /// Loads the config file (if any) from disk and merges everything.
    package static func load(flags: Flags, environment: [String: String]) throws -> TollgateConfig {
        var yaml: String?
        if let path = flags.config ?? environment["TOLLGATE_CONFIG"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError("Cannot read config file '\(path)' (from --config or TOLLGATE_CONFIG).")
            }
            yaml = String(decoding: data, as: UTF8.self)
        }
        return try merge(flags: flags, environment: environment, yaml: yaml)
    }

    /// Pure merge, for tests: `yaml` is the config file's text.
    package static func merge(flags: Flags, environment: [String: String], yaml: String?) throws -> TollgateConfig {
        var config = TollgateConfig()
        if let yaml { try applyFile(yaml, to: &config) }
        try applyEnvironment(environment, to: &config)
        if let listen = flags.listen { try setListen(listen, on: &config, from: "--listen") }
        if let db = flags.db { config.databasePath = db }
        if let pricing = flags.pricing { config.pricingPath = pricing }
        return config
    }

    // MARK: Environment

    private static func applyEnvironment(_ env: [String: String], to config: inout TollgateConfig) throws {
        if let v = env["TOLLGATE_LISTEN"] { try setListen(v, on: &config, from: "TOLLGATE_LISTEN") }
        if let v = env["TOLLGATE_DB"] { config.databasePath = v }
        if let v = env["TOLLGATE_PRICING"] { config.pricingPath = v }
        if let v = env["TOLLGATE_ADMIN_KEY"], !v.isEmpty { config.adminKey = v }
        if let v = env["TOLLGATE_ALLOW_PASSTHROUGH"] { config.allowPassthrough = try bool(v, "TOLLGATE_ALLOW_PASSTHROUGH") }
        if let v = env["TOLLGATE_CACHE"] { config.cacheEnabled = try onOff(v, "TOLLGATE_CACHE") }
        if let v = env["TOLLGATE_CACHE_TTL"] { config.cacheTTLSeconds = try int(v, "TOLLGATE_CACHE_TTL", min: 1) }
        if let v = env["TOLLGATE_CACHE_MAX_BYTES"] { config.cacheMaxBytes = try int(v, "TOLLGATE_CACHE_MAX_BYTES", min: 0) }
        if let v = env["TOLLGATE_ALERT_WEBHOOK"], !v.isEmpty { config.alertWebhook = v }
        if let v = env["TOLLGATE_ALERT_SECRET"], !v.isEmpty { config.alertSecret = v }
        if let v = env["TOLLGATE_ALERT_ERROR_RATE"] { config.alertErrorRateBP = try fraction(v, "TOLLGATE_ALERT_ERROR_RATE") }
        if let v = env["TOLLGATE_ALERT_CHECK_SECONDS"] { config.alertCheckSeconds = try int(v, "TOLLGATE_ALERT_CHECK_SECONDS", min: 1) }
        if let v = env["TOLLGATE_CONNECT_TIMEOUT"] { config.timeouts.connectMs = try millis(v, "TOLLGATE_CONNECT_TIMEOUT") }
        if let v = env["TOLLGATE_FIRST_BYTE_TIMEOUT"] { config.timeouts.firstByteMs = try millis(v, "TOLLGATE_FIRST_BYTE_TIMEOUT") }
        if let v = env["TOLLGATE_IDLE_TIMEOUT"] { config.timeouts.idleMs = try millis(v, "TOLLGATE_IDLE_TIMEOUT") }
        if let v = env["TOLLGATE_FLUSH_MS"] { config.flushMs = try int(v, "TOLLGATE_FLUSH_MS", min: 1) }
        if let v = env["TOLLGATE_RETENTION_EVENTS_DAYS"] { config.retention.eventsDays = try int(v, "TOLLGATE_RETENTION_EVENTS_DAYS", min: 0) }
        if let v = env["TOLLGATE_RETENTION_HOURLY_DAYS"] { config.retention.hourlyDays = try int(v, "TOLLGATE_RETENTION_HOURLY_DAYS", min: 0) }
        if let v = env["TOLLGATE_RETENTION_DAILY_DAYS"] { config.retention.dailyDays = try int(v, "TOLLGATE_RETENTION_DAILY_DAYS", min: 0) }
        if let v = env["TOLLGATE_RETENTION_AUDIT_DAYS"] { config.retention.auditDays = try int(v, "TOLLGATE_RETENTION_AUDIT_DAYS", min: 0) }
        if let v = env["TOLLGATE_LOG_LEVEL"] { config.logLevel = try level(v, "TOLLGATE_LOG_LEVEL") }
        if let v = env["TOLLGATE_LOG_FORMAT"] { config.logFormat = try logFormat(v, "TOLLGATE_LOG_FORMAT") }
        if let v = env["TOLLGATE_MAX_CONNECTIONS"] { config.limits.maxConnections = try int(v, "TOLLGATE_MAX_CONNECTIONS", min: 0) }
        if let v = env["TOLLGATE_HEADER_TIMEOUT"] { config.limits.headerTimeoutMs = try millis(v, "TOLLGATE_HEADER_TIMEOUT") }
        if let v = env["TOLLGATE_BODY_TIMEOUT"] { config.limits.bodyTimeoutMs = try millis(v, "TOLLGATE_BODY_TIMEOUT") }
        if let v = env["TOLLGATE_KEEPALIVE_TIMEOUT"] { config.limits.keepAliveTimeoutMs = try millis(v, "TOLLGATE_KEEPALIVE_TIMEOUT") }
        if let v = env["TOLLGATE_ROLLUP_TAGS"] { config.rollupTags.names = try tagNames(v.split(separator: ",").map(String.init), "TOLLGATE_ROLLUP_TAGS") }
        if let v = env["TOLLGATE_ROLLUP_TAG_VALUES"] { config.rollupTags.maxValues = try int(v, "TOLLGATE_ROLLUP_TAG_VALUES", min: 1) }
        if let v = env["TOLLGATE_UPSTREAM_THREADS"] { config.upstreamThreads = try int(v, "TOLLGATE_UPSTREAM_THREADS", min: 1) }

        // TOLLGATE_<PROVIDER>_BASE_URL / _FORMAT / _API_KEY, e.g. TOLLGATE_OPENAI_BASE_URL.
        var names = Set<String>()
        for key in env.keys where key.hasPrefix("TOLLGATE_") {
            for suffix in ["_BASE_URL", "_FORMAT", "_API_KEY"] where key.hasSuffix(suffix) {
                let name = key.dropFirst("TOLLGATE_".count).dropLast(suffix.count)
                if !name.isEmpty { names.insert(name.lowercased()) }
            }
        }
        for name in names.sorted() {
            let prefix = "TOLLGATE_\(name.uppercased())"
            // SPEC §1: without its _BASE_URL a variable defines nothing, so Tollgate's own settings
            // (TOLLGATE_LOG_FORMAT) never read as a provider's.
            guard env[prefix + "_BASE_URL"] != nil || config.providers.contains(where: { $0.name == name }) else { continue }
            try upsertProvider(
                name: name, baseURL: env[prefix + "_BASE_URL"], format: env[prefix + "_FORMAT"],
                apiKey: env[prefix + "_API_KEY"], origin: prefix + "_*", into: &config)
        }
        if let v = env["TOLLGATE_VERTEX_CREDENTIALS"] {
            // A service-account key file, or its JSON itself (as a secret manager may inject it).
            let json: String
            if v.trimmingSpaces().hasPrefix("{") {
                json = v
            } else {
                guard let data = FileManager.default.contents(atPath: v) else {
                    throw ConfigError("TOLLGATE_VERTEX_CREDENTIALS: cannot read the service-account key file '\(v)'.")
                }
                json = String(decoding: data, as: UTF8.self)
            }
            try upsertProvider(name: "vertex", baseURL: nil, format: nil, apiKey: json, origin: "TOLLGATE_VERTEX_CREDENTIALS", into: &config)
        }
        try bedrock(env, into: &config)
        config.tracing = try TracingSettings.from(env)
        if let v = env["TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE"] {
            config.admin.failedAuthPerMinute = try int(v, "TOLLGATE_ADMIN_FAILED_AUTH_PER_MINUTE", min: 0)
        }
        if let v = env["TOLLGATE_ADMIN_REQUESTS_PER_MINUTE"] {
            config.admin.requestsPerMinute = try int(v, "TOLLGATE_ADMIN_REQUESTS_PER_MINUTE", min: 0)
        }
    }

    // MARK: Config file

    private static let topLevelKeys: Set<String> = [
        "listen", "db", "pricing", "admin_key", "allow_passthrough", "cache", "alerts", "timeouts", "flush_ms",
        "log_level", "log_format", "max_body_bytes", "shutdown_timeout", "upstream_threads", "metrics", "providers", "retention",
        "limits", "keys", "admin", "analytics",
    ]

    private static func applyFile(_ text: String, to config: inout TollgateConfig) throws {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw ConfigError("Config file is not valid YAML: \(error)") }
        guard let loaded else { return }
        guard let document = loaded as? [String: Any] else { throw ConfigError("Config file must be a YAML mapping of settings.") }
        // A key whose children are all commented out reads as null: treat it as absent.
        let root = document.filter { !($0.value is NSNull) }
        for key in root.keys where !topLevelKeys.contains(key) {
            throw ConfigError("Unknown config key '\(key)'; see deploy/tollgate.example.yaml for every key.")
        }
        if let v = root["listen"] { try setListen(try string(v, "listen"), on: &config, from: "listen") }
        if let v = root["db"] { config.databasePath = try string(v, "db") }
        if let v = root["admin_key"] { config.adminKey = try string(v, "admin_key") }
        if let v = root["allow_passthrough"] { config.allowPassthrough = try bool("\(v)", "allow_passthrough") }
        if let v = root["flush_ms"] { config.flushMs = try int("\(v)", "flush_ms", min: 1) }
        if let v = root["log_level"] { config.logLevel = try level(try string(v, "log_level"), "log_level") }
        if let v = root["log_format"] { config.logFormat = try logFormat(try string(v, "log_format"), "log_format") }
        if let v = root["max_body_bytes"] { config.maxBodyBytes = try int("\(v)", "max_body_bytes", min: 1) }
        if let v = root["shutdown_timeout"] { config.shutdownTimeoutSeconds = try int("\(v)", "shutdown_timeout", min: 0) }
        if let v = root["upstream_threads"] { config.upstreamThreads = try int("\(v)", "upstream_threads", min: 1) }
        if let v = root["pricing"] {
            let map = try mapping(v, "pricing", keys: ["file", "unknown_model"])
            if let f = map["file"] { config.pricingPath = try string(f, "pricing.file") }
            if let p = map["unknown_model"] { config.unknownModelPolicy = try string(p, "pricing.unknown_model") }
        }
        if let v = root["cache"] {
            let map = try mapping(v, "cache", keys: ["enabled", "ttl", "max_bytes"])
            if let e = map["enabled"] { config.cacheEnabled = try bool("\(e)", "cache.enabled") }
            if let t = map["ttl"] { config.cacheTTLSeconds = try int("\(t)", "cache.ttl", min: 1) }
            if let m = map["max_bytes"] { config.cacheMaxBytes = try int("\(m)", "cache.max_bytes", min: 0) }
        }
        if let v = root["alerts"] {
            let map = try mapping(v, "alerts", keys: ["webhook", "secret", "error_rate", "check_seconds"])
            if let w = map["webhook"] { config.alertWebhook = try string(w, "alerts.webhook") }
            if let s = map["secret"] { config.alertSecret = try string(s, "alerts.secret") }
            if let r = map["error_rate"] { config.alertErrorRateBP = try fraction("\(r)", "alerts.error_rate") }
            if let c = map["check_seconds"] { config.alertCheckSeconds = try int("\(c)", "alerts.check_seconds", min: 1) }
        }
        if let v = root["timeouts"] {
            let map = try mapping(v, "timeouts", keys: ["connect", "first_byte", "idle"])
            if let c = map["connect"] { config.timeouts.connectMs = try millis("\(c)", "timeouts.connect") }
            if let f = map["first_byte"] { config.timeouts.firstByteMs = try millis("\(f)", "timeouts.first_byte") }
            if let i = map["idle"] { config.timeouts.idleMs = try millis("\(i)", "timeouts.idle") }
        }
        if let v = root["retention"] {
            let map = try mapping(v, "retention", keys: ["events_days", "hourly_days", "daily_days", "audit_days"])
            if let d = map["events_days"] { config.retention.eventsDays = try int("\(d)", "retention.events_days", min: 0) }
            if let d = map["hourly_days"] { config.retention.hourlyDays = try int("\(d)", "retention.hourly_days", min: 0) }
            if let d = map["daily_days"] { config.retention.dailyDays = try int("\(d)", "retention.daily_days", min: 0) }
            if let d = map["audit_days"] { config.retention.auditDays = try int("\(d)", "retention.audit_days", min: 0) }
        }
        if let v = root["analytics"] {
            let map = try mapping(v, "analytics", keys: ["rollup_tags", "rollup_tag_values"])
            if let tags = map["rollup_tags"] {
                guard let list = tags as? [Any] else {
                    throw ConfigError("'analytics.rollup_tags' must be a list of tag names, e.g. [feature, agent, prompt].")
                }
                config.rollupTags.names = try tagNames(try list.map { try string($0, "analytics.rollup_tags") }, "analytics.rollup_tags")
            }
            if let n = map["rollup_tag_values"] { config.rollupTags.maxValues = try int("\(n)", "analytics.rollup_tag_values", min: 1) }
        }
        if let v = root["limits"] {
            let map = try mapping(
                v, "limits",
                keys: ["max_connections", "header_timeout", "body_timeout", "keepalive_timeout", "max_attribution_length", "max_orgs"])
            if let n = map["max_connections"] { config.limits.maxConnections = try int("\(n)", "limits.max_connections", min: 0) }
            if let t = map["header_timeout"] { config.limits.headerTimeoutMs = try millis("\(t)", "limits.header_timeout") }
            if let t = map["body_timeout"] { config.limits.bodyTimeoutMs = try millis("\(t)", "limits.body_timeout") }
            if let t = map["keepalive_timeout"] { config.limits.keepAliveTimeoutMs = try millis("\(t)", "limits.keepalive_timeout") }
            if let n = map["max_attribution_length"] {
                config.limits.maxAttributionLength = try int("\(n)", "limits.max_attribution_length", min: 1)
            }
            if let n = map["max_orgs"] { config.limits.maxOrgs = try int("\(n)", "limits.max_orgs", min: 1) }
        }
        if let v = root["keys"] {
            let map = try mapping(v, "keys", keys: ["unmetered_paths"])
            if let paths = map["unmetered_paths"] {
                guard let byKey = paths as? [String: Any] else {
                    throw ConfigError("'keys.unmetered_paths' must map key ids (or \"*\") to lists of path globs, e.g. \"*\": [\"/v1/images/*\"].")
                }
                for (keyID, list) in byKey {
                    guard let globs = list as? [Any] else {
                        throw ConfigError("'keys.unmetered_paths.\(keyID)' must be a list of path globs such as /v1/files*.")
                    }
                    config.keyUnmeteredPaths[keyID] = try globs.map { glob in
                        let text = try string(glob, "keys.unmetered_paths.\(keyID)")
                        guard text.hasPrefix("/") else {
                            throw ConfigError("keys.unmetered_paths.\(keyID): '\(text)' must start with '/' (the path after the provider segment, e.g. /v1/files*).")
                        }
                        return text
                    }
                }
            }
        }
        if let v = root["metrics"] {
            let map = try mapping(v, "metrics", keys: ["require_admin"])
            if let r = map["require_admin"] { config.metricsRequireAdmin = try bool("\(r)", "metrics.require_admin") }
        }
        if let v = root["providers"] {
            guard let map = v as? [String: Any] else {
                throw ConfigError("'providers' must map provider names to {base_url, format, api_key}.")
            }
            for (name, entry) in map.sorted(by: { $0.key < $1.key }) {
                let fields = try mapping(entry, "providers.\(name)", keys: ["base_url", "format", "api_key"])
                try upsertProvider(
                    name: name, baseURL: try fields["base_url"].map { try string($0, "providers.\(name).base_url") },
                    format: try fields["format"].map { try string($0, "providers.\(name).format") },
                    apiKey: try fields["api_key"].map { try string($0, "providers.\(name).api_key") },
                    origin: "providers.\(name)", into: &config)
            }
        }
        if let v = root["admin"] {
            let map = try mapping(v, "admin", keys: ["failed_auth_per_minute", "requests_per_minute"])
            if let n = map["failed_auth_per_minute"] {
                config.admin.failedAuthPerMinute = try int("\(n)", "admin.failed_auth_per_minute", min: 0)
            }
            if let n = map["requests_per_minute"] { config.admin.requestsPerMinute = try int("\(n)", "admin.requests_per_minute", min: 0) }
        }
    }

    /// AWS Bedrock (SPEC §14): `TOLLGATE_BEDROCK_REGION` with `_ACCESS_KEY_ID`,
    /// `_SECRET_ACCESS_KEY` and optionally `_SESSION_TOKEN` (Tollgate signs each call), or a
    /// Bedrock API key in `TOLLGATE_BEDROCK_API_KEY`. The base URL is the region's runtime
    /// endpoint unless `TOLLGATE_BEDROCK_BASE_URL` says otherwise.
    private static func bedrock(_ env: [String: String], into config: inout TollgateConfig) throws {
        let region = env["TOLLGATE_BEDROCK_REGION"]
        let accessKeyID = env["TOLLGATE_BEDROCK_ACCESS_KEY_ID"]
        let secret = env["TOLLGATE_BEDROCK_SECRET_ACCESS_KEY"]
        let sessionToken = env["TOLLGATE_BEDROCK_SESSION_TOKEN"]
        let bearer = env["TOLLGATE_BEDROCK_API_KEY"]
        guard region != nil || accessKeyID != nil || secret != nil || sessionToken != nil || bearer != nil else { return }
        guard let region, !region.isEmpty else {
            throw ConfigError("TOLLGATE_BEDROCK_REGION is required with Bedrock's credentials: it names the endpoint and signs every call (e.g. us-east-1).")
        }
        guard region.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            throw ConfigError("TOLLGATE_BEDROCK_REGION must be a region name such as us-east-1, got '\(region)'.")
        }
        var apiKey = bearer
        if accessKeyID != nil || secret != nil {
            guard let accessKeyID, !accessKeyID.isEmpty, let secret, !secret.isEmpty else {
                throw ConfigError("Set both TOLLGATE_BEDROCK_ACCESS_KEY_ID and TOLLGATE_BEDROCK_SECRET_ACCESS_KEY (an IAM user's or role's access key).")
            }
            let settings = AWSSignatureCredential.Settings(
                region: region,
                credentials: .init(accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: sessionToken.flatMap { $0.isEmpty ? nil : $0 }))
            apiKey = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        } else if sessionToken != nil {
            throw ConfigError("TOLLGATE_BEDROCK_SESSION_TOKEN needs TOLLGATE_BEDROCK_ACCESS_KEY_ID and TOLLGATE_BEDROCK_SECRET_ACCESS_KEY.")
        }
        let known = config.providers.contains { $0.name == "bedrock" }
        try upsertProvider(
            name: "bedrock", baseURL: known ? nil : "https://bedrock-runtime.\(region).amazonaws.com", format: nil, apiKey: apiKey,
            origin: "TOLLGATE_BEDROCK_*", into: &config)
    }

    // MARK: Helpers

    private static func upsertProvider(
        name: String, baseURL: String?, format: String?, apiKey: String?, origin: String, into config: inout TollgateConfig
    ) throws {
        guard AttributionHeaders.isSlug(name) else {
            throw ConfigError("Provider name '\(name)' (\(origin)) must be lower-case letters, digits, '-' or '_'.")
        }
        guard !TollgateResponder.reservedNames.contains(name) else {
            throw ConfigError("Provider name '\(name)' (\(origin)) is reserved for Tollgate's own endpoints (/\(name)); pick another name.")
        }
        let parsedFormat = try format.map { value -> ProviderFormat in
            guard let f = ProviderFormat(rawValue: value.lowercased()) else {
                throw ConfigError("\(origin): format must be openai, anthropic, gemini, azure, vertex or bedrock, got '\(value)'.")
            }
            return f
        }
        if let url = baseURL, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ConfigError("\(origin): base URL must start with http:// or https://, got '\(url)'.")
        }
        if let index = config.providers.firstIndex(where: { $0.name == name }) {
            var provider = config.providers[index]
            if let baseURL { provider = Provider(name: name, baseURL: baseURL, format: provider.format, apiKey: provider.apiKey) }
            if let parsedFormat { provider.format = parsedFormat }
            if let apiKey { provider.apiKey = apiKey }
            config.providers[index] = provider
        } else {
            guard let baseURL else {
                throw ConfigError("Provider '\(name)' is not built in: give it a base URL (\(origin)).")
            }
            let format = parsedFormat ?? Provider.knownFormats[name] ?? .openai
            config.providers.append(Provider(name: name, baseURL: baseURL, format: format, apiKey: apiKey))
        }
    }

    /// At most this many tags are rolled up: each adds a row per event to the hourly and daily writes.
    static let maxRollupTags = 20

    /// Tag names as `X-Tollgate-Tag-<Name>` stores them (lower-cased), each once.
    private static func tagNames(_ values: [String], _ name: String) throws -> [String] {
        var names: [String] = []
        for value in values {
            let tag = value.trimmingCharacters(in: .whitespaces).lowercased()
            if tag.isEmpty { continue }
            guard TagName.isValid(tag) else {
                throw ConfigError("\(name): '\(value)' is not a tag name (\(TagName.rule)); name tags as in X-Tollgate-Tag-<Name>.")
            }
            if !names.contains(tag) { names.append(tag) }
        }
        guard names.count <= maxRollupTags else {
            throw ConfigError("\(name) names \(names.count) tags; at most \(maxRollupTags) can be rolled up (others are still read from raw events).")
        }
        return names
    }

    private static func setListen(_ value: String, on config: inout TollgateConfig, from origin: String) throws {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
            (0...65535).contains(port), colon != value.startIndex
        else { throw ConfigError("\(origin) must be host:port, e.g. 127.0.0.1:8080; got '\(value)'.") }
        config.host = String(value[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        config.port = port
    }

    /// A fraction in (0, 1] as basis points, exact for up to 4 decimals (`0.2` → 2000).
    private static func fraction(_ text: String, _ name: String) throws -> Int64 {
        guard let bp = DecimalParser.scaled(text.trimmingCharacters(in: .whitespaces), decimals: 4), bp > 0, bp <= 10_000 else {
            throw ConfigError("\(name) must be a fraction above 0 and at most 1 (0.2 is 20 %), got '\(text)'.")
        }
        return bp
    }

    private static func mapping(_ value: Any, _ name: String, keys: Set<String>) throws -> [String: Any] {
        if value is NSNull { return [:] }
        guard let map = (value as? [String: Any])?.filter({ !($0.value is NSNull) }) else {
            throw ConfigError("'\(name)' must be a mapping.")
        }
        for key in map.keys where !keys.contains(key) {
            throw ConfigError("Unknown config key '\(name).\(key)'; expected one of: \(keys.sorted().joined(separator: ", ")).")
        }
        return map
    }

    private static func string(_ value: Any, _ name: String) throws -> String {
        if let s = value as? String { return s }
        if value is [Any] || value is [String: Any] { throw ConfigError("'\(name)' must be a string.") }
        return "\(value)"
    }

    private static func bool(_ value: String, _ name: String) throws -> Bool {
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError("\(name) must be true or false, got '\(value)'.")
        }
    }

    private static func onOff(_ value: String, _ name: String) throws -> Bool {
        switch value.lowercased() {
        case "on", "true": return true
        case "off", "false": return false
        default: throw ConfigError("\(name) must be on or off, got '\(value)'.")
        }
    }

    private static func int(_ value: String, _ name: String, min: Int) throws -> Int {
        guard let n = Int(value), n >= min else { throw ConfigError("\(name) must be a whole number ≥ \(min), got '\(value)'.") }
        return n
    }

    /// Seconds (fractions allowed) to milliseconds.
    private static func millis(_ value: String, _ name: String) throws -> Int {
        guard let seconds = Double(value), seconds > 0, seconds < 1e7 else {
            throw ConfigError("\(name) must be a number of seconds > 0, got '\(value)'.")
        }
        return Int((seconds * 1000).rounded())
    }

    private static func logFormat(_ value: String, _ name: String) throws -> LogFormat {
        guard let format = LogFormat(rawValue: value.lowercased()) else {
            throw ConfigError("\(name) must be text or json; got '\(value)'.")
        }
        return format
    }

    private static func level(_ value: String, _ name: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: value.lowercased()) else {
            throw ConfigError("\(name) must be one of trace, debug, info, notice, warning, error, critical; got '\(value)'.")
        }
        return level
    }
}
