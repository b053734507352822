import FuzzSupport
import TollgateCore

/// A provider's stream, cut into chunks of a size the input picks: metered while forwarded
/// untouched and while stripping the injected usage chunk, priced, and assembled for the cache.
/// Where the stream was cut must not matter: the same stream fed whole meters and forwards the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamMeter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (format, endpoint, model, input) = scenario(data, size), let first = input.first else { return 0 }
    let chunk = Int(first % 64) + 1
    let stream = UnsafeBufferPointer(rebasing: input.dropFirst())
    var observing = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: false)
    var stripping = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: true)
    var forwarded: [UInt8] = []
    var offset = 0
    while offset < stream.count {
        let piece = UnsafeBufferPointer(rebasing: stream[offset..<min(offset + chunk, stream.count)])
        observing.observe(piece)
        forwarded += stripping.feed(piece)
        offset += chunk
    }
    forwarded += stripping.finish()
    precondition(forwarded.count <= stream.count, "stripping forwarded more bytes than arrived")

    var whole = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: false)
    whole.observe(stream)
    var wholeStripping = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: true)
    let wholeForwarded = wholeStripping.feed(stream) + wholeStripping.finish()
    precondition(
        whole.usage == observing.usage && whole.model == observing.model && whole.usageComplete == observing.usageComplete
            && whole.textCharacters == observing.textCharacters,
        "metering depends on where the stream was cut")
    precondition(wholeForwarded == forwarded, "what reaches the client depends on where the stream was cut")
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
