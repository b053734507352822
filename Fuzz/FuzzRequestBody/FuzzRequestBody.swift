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
        // Checked as bytes, as the provider reads them: as Characters, a '?' followed by a
        // combining mark is not '?', and the query would be taken for the path.
        let path = Array(target.utf8.prefix { $0 != UInt8(ascii: "?") })
        let segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        precondition(path.first == UInt8(ascii: "/"), "a normalized path must start with /")
        precondition(
            path.count == 1 || segments.allSatisfy { !$0.isEmpty && !$0.elementsEqual(".".utf8) && !$0.elementsEqual("..".utf8) },
            "a normalized path kept a dot segment or an empty segment")
        precondition(!path.contains(UInt8(ascii: "#")) && !path.contains(UInt8(ascii: "\\")), "a normalized path kept # or \\")
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
