import FuzzSupport
import TollgateCore

/// A provider's stream, cut into chunks of a size the input picks: metered while forwarded
/// untouched and while stripping the injected usage chunk, priced, and assembled for the cache.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamMeter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (format, endpoint, model, input) = scenario(data, size), let first = input.first else { return 0 }
    let chunk = Int(first % 64) + 1
    let stream = UnsafeBufferPointer(rebasing: input.dropFirst())
    var observing = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: false)
    var stripping = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: true)
    var offset = 0
    while offset < stream.count {
        let piece = UnsafeBufferPointer(rebasing: stream[offset..<min(offset + chunk, stream.count)])
        observing.observe(piece)
        _ = stripping.feed(piece)
        offset += chunk
    }
    _ = stripping.finish()
    for meter in [observing, stripping] {
        priceAndCheck(meter.result(estimatedInputTokens: Int(first)).usage, model: meter.model ?? model)
    }
    _ = StreamAssembler.assemble(Array(stream), format: format, endpoint: endpoint)
    return 0
}

@_cdecl("FuzzStreamMeter_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzStreamMeter)
}
