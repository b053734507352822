import Foundation
import TollgateCore

/// OpenTelemetry export (SPEC §15), from the variables every OpenTelemetry SDK reads, so an
/// operator's existing settings work unchanged:
///
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` (traces go to its `/v1/traces`) or
///   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is): tracing is on when either is set;
/// - `OTEL_EXPORTER_OTLP_HEADERS` / `_TRACES_HEADERS`: `key=value,…`, values percent-decoded
///   (an API key for a hosted backend); never logged;
/// - `OTEL_SERVICE_NAME` (default `tollgate`) and `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`);
/// - `OTEL_BSP_SCHEDULE_DELAY` (ms between exports, default 5000), `OTEL_BSP_MAX_QUEUE_SIZE`
///   (2048; spans past it are dropped and counted), `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (512);
/// - `OTEL_SDK_DISABLED=true` turns it off; `OTEL_EXPORTER_OTLP_PROTOCOL` other than
///   `http/json` is refused at start (Tollgate exports OTLP/HTTP with JSON bodies).
package struct TracingSettings: Sendable, Equatable {
    package struct Pair: Sendable, Equatable {
        package var key: String
        package var value: String
    }

    package var tracesURL: String
    package var headers: [Pair] = []
    package var serviceName = "tollgate"
    package var resource: [Pair] = []
    package var scheduleDelayMs = 5000
    package var maxQueueSize = 2048
    package var maxBatchSize = 512

    /// The traces URL for logs: a password in it (`https://user:secret@host`) masked.
    package var displayURL: String {
        guard let scheme = tracesURL.range(of: "://"), let at = tracesURL[scheme.upperBound...].firstIndex(of: "@") else { return tracesURL }
        let userInfo = tracesURL[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return tracesURL }
        return String(tracesURL[..<colon]) + ":***" + String(tracesURL[at...])
    }

    /// The settings `env` describes; nil when tracing is off.
    package static func from(_ env: [String: String]) throws -> TracingSettings? {
        if env["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return nil }
        let url: String
        if let traces = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !traces.isEmpty {
            url = traces
        } else if let base = env["OTEL_EXPORTER_OTLP_ENDPOINT"], !base.isEmpty {
            url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/traces"
        } else {
            return nil
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ConfigError("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (OTLP/HTTP), got '\(url)'.")
        }
        let protocolName = env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? env["OTEL_EXPORTER_OTLP_PROTOCOL"]
        if let protocolName, protocolName != "http/json" {
            throw ConfigError("OTEL_EXPORTER_OTLP_PROTOCOL is '\(protocolName)'; Tollgate exports OTLP over HTTP with JSON bodies: set it to http/json (collectors accept it on the same port as http/protobuf) or leave it unset.")
        }
        var settings = TracingSettings(tracesURL: url)
        settings.headers = try pairs(env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] ?? env["OTEL_EXPORTER_OTLP_HEADERS"], "OTEL_EXPORTER_OTLP_HEADERS")
        settings.resource = try pairs(env["OTEL_RESOURCE_ATTRIBUTES"], "OTEL_RESOURCE_ATTRIBUTES").filter { $0.key != "service.name" }
        if let name = env["OTEL_SERVICE_NAME"], !name.isEmpty {
            settings.serviceName = name
        } else if let name = try pairs(env["OTEL_RESOURCE_ATTRIBUTES"], "OTEL_RESOURCE_ATTRIBUTES").first(where: { $0.key == "service.name" }) {
            settings.serviceName = name.value
        }
        settings.scheduleDelayMs = try positive(env["OTEL_BSP_SCHEDULE_DELAY"], "OTEL_BSP_SCHEDULE_DELAY") ?? settings.scheduleDelayMs
        settings.maxQueueSize = try positive(env["OTEL_BSP_MAX_QUEUE_SIZE"], "OTEL_BSP_MAX_QUEUE_SIZE") ?? settings.maxQueueSize
        settings.maxBatchSize = try positive(env["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"], "OTEL_BSP_MAX_EXPORT_BATCH_SIZE") ?? settings.maxBatchSize
        settings.maxBatchSize = min(settings.maxBatchSize, settings.maxQueueSize)
        return settings
    }

    /// `key=value,…` with percent-encoded values (the OpenTelemetry environment format).
    private static func pairs(_ text: String?, _ name: String) throws -> [Pair] {
        guard let text, !text.trimmingSpaces().isEmpty else { return [] }
        return try text.split(separator: ",").map { item in
            guard let equals = item.firstIndex(of: "=") else {
                throw ConfigError("\(name): '\(item)' is not key=value.")
            }
            let key = item[..<equals].trimmingSpaces()
            let value = String(item[item.index(after: equals)...]).trimmingSpaces()
            guard !key.isEmpty else { throw ConfigError("\(name): an entry has no key.") }
            return Pair(key: key, value: value.removingPercentEncoding ?? value)
        }
    }

    private static func positive(_ text: String?, _ name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text.trimmingSpaces()), value > 0 else { throw ConfigError("\(name) must be a positive whole number, got '\(text)'.") }
        return value
    }
}
