import FuzzSupport
import TollgateCore

/// A client's request: the target normalized and policed, the body inspected (model, stream,
/// output cap, input estimate, canonical form, the include-usage splice, whose result must read
/// the same), and the worst case a budget would reserve.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestBody(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (format, endpoint, model, body) = scenario(data, size) else { return 0 }
    let text = String(decoding: body.prefix(512), as: UTF8.self)
    if let target = try? RequestTarget.normalize("/" + text) {
        // Split at the byte, as normalize does: "?" and a combining mark after it are one Character.
        let path = String(decoding: target.utf8.prefix { $0 != UInt8(ascii: "?") }, as: UTF8.self)
        precondition(
            !path.contains("/../") && !path.hasSuffix("/..") && !path.contains("//") && !path.contains("#"),
            "a normalized path kept a dot segment, an empty segment or a fragment")
        _ = KeyPathPolicy(unmeteredPaths: ["*": ["/v1/files*"]]).verdict(
            keyID: "k", format: format, endpoint: endpoint, path: Substring(target))
    }
    let path: Substring = format == .gemini ? "/v1beta/models/\(model):streamGenerateContent" : "/v1/x"
    guard let inspection = try? RequestInspector.inspect(body, format: format, endpoint: endpoint, path: path, canonicalize: true)
    else { return 0 }
    if let upstream = inspection.upstreamBody {
        // The include_usage splice edits the client's bytes: what goes upstream must still be a
        // JSON object that reads the same (model, output cap, stream flag).
        guard let again = try? RequestInspector.inspect(upstream, format: format, endpoint: endpoint, path: path) else {
            preconditionFailure("the include_usage splice made the body invalid")
        }
        precondition(
            again.model == inspection.model && again.maxOutputTokens == inspection.maxOutputTokens && again.stream,
            "the include_usage splice changed what the body says")
    }
    if let price = pricing.lookup(inspection.model ?? model)?.price {
        let worst = CostCalculator.worstCaseNanos(
            inputTokens: inspection.estimatedInputTokens, outputCap: inspection.maxOutputTokens, price: price)
        precondition(worst >= 0 && worst <= CostCalculator.maxRequestNanos, "worst case out of bounds")
    }
    return 0
}

@_cdecl("FuzzRequestBody_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRequestBody)
}
