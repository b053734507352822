import FuzzSupport
import TollgateCore

/// A provider's whole answer: the model and usage read by the JSON scanner, normalized and
/// priced; the raw usage object read on its own too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUsageParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (format, endpoint, model, body) = scenario(data, size) else { return 0 }
    let metered = UsageParser.metered(body: body, format: format, endpoint: endpoint, estimatedInputTokens: 7)
    priceAndCheck(metered.usage, model: metered.model ?? model, markupPPM: Int64(size) * 1_000_003)
    if let usage = ProviderUsage(json: body) {
        priceAndCheck(usage.normalized(format), model: model)
        priceAndCheck(usage.merging(usage).normalized(format), model: model)
    }
    return 0
}

@_cdecl("FuzzUsageParser_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzUsageParser)
}
