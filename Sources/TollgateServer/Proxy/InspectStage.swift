import Hummingbird
import NIOCore
import TollgateCore

/// Reads the request body (bounded by `max_body_bytes` and `limits.body_timeout`) and, on a
/// metered endpoint, what metering needs from it: model, stream flag, output cap, input estimate.
struct InspectStage: Sendable {
    let settings: ProxySettings

    func readBody(_ request: Request, _ exchange: inout Exchange) async throws -> ByteBuffer {
        do {
            let body = try await request.body.collect(upTo: settings.maxBodyBytes)
            exchange.bytesIn = Int64(body.readableBytes)
            return body
        } catch is NIOTooManyBytesError {
            throw RequestError(.requestTooLarge, "The request body is over the \(settings.maxBodyBytes >> 20) MiB limit (max_body_bytes).")
        } catch {
            // The connection closed under the body: the client went away, or sent it slower than
            // limits.body_timeout allows.
            throw RequestError(.requestTimeout, "The request body did not arrive whole (\(error)); send it within limits.body_timeout.")
        }
    }

    /// - Parameter canonicalize: also give the body's canonical form, for the cache key.
    func inspect(
        _ body: ByteBuffer, route: ProviderRouter.Route, canonicalize: Bool, _ exchange: inout Exchange
    ) throws -> RequestInspection {
        guard route.endpoint.isMetered else { return RequestInspection() }
        let inspection = try RequestInspector.inspect(
            body.readableBytesView, format: route.provider.format, endpoint: route.endpoint, path: route.path,
            canonicalize: canonicalize)
        exchange.model = inspection.model ?? ""
        exchange.stream = inspection.stream
        if exchange.attribution.user == nil, let user = inspection.user {
            guard user.utf8.count <= settings.maxAttributionLength else {
                throw RequestError.invalidRequest("The body's user field is \(user.utf8.count) bytes; at most \(settings.maxAttributionLength) are allowed (limits.max_attribution_length).")
            }
            exchange.attribution.user = user
        }
        return inspection
    }
}
