import Foundation
import NIOCore
import TollgateCore

/// What the proxy needs to know from a metered request's body.
struct Inspection: Sendable {
    var model: String?
    var stream = false
    var user: String?
    /// A rewritten body to send upstream instead of the client's (nil = send it unchanged).
    var upstreamBody: ByteBuffer?

    static func inspect(_ body: ByteBuffer, format: ProviderFormat, endpoint: Endpoint, path: Substring) throws -> Inspection {
        var inspection = Inspection()
        if format == .gemini {
            inspection.stream = path.hasSuffix(":streamGenerateContent")
            if let models = path.range(of: "/models/"), let colon = path.lastIndex(of: ":") , models.upperBound < colon {
                inspection.model = String(path[models.upperBound..<colon])
            }
        }
        guard body.readableBytes > 0 else {
            throw RequestError.invalidRequest("The request body is empty; this endpoint expects a JSON object.")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        } catch {
            throw RequestError.invalidRequest("The request body is not valid JSON: \(error.localizedDescription)")
        }
        guard let json = object as? [String: Any] else {
            throw RequestError.invalidRequest("The request body must be a JSON object.")
        }
        if let model = json["model"] as? String { inspection.model = model }
        if format != .gemini { inspection.stream = (json["stream"] as? Bool) ?? false }
        inspection.user = json["user"] as? String
        return inspection
    }
}
