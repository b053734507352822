import TollgateCore

/// libFuzzer's entry point for a binary that brings its own `main`.
///
/// SwiftPM links every executable with `--defsym main=<Target>_main`, which would hide
/// libFuzzer's own `main`; so each fuzz target defines `<Target>_main` and hands its input
/// callback to libFuzzer here (`LLVMFuzzerRunDriver`, libFuzzer's documented driver API).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

package typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer with `argc`/`argv` (its usual flags and corpus folders) on `callback`.
package func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ callback: FuzzCallback) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

/// The wire formats and endpoints a fuzz input may pick with its first byte.
package let scenarios: [(format: ProviderFormat, endpoint: Endpoint, model: String)] = [
    (.openai, .chat, "gpt-4o"), (.openai, .completion, "gpt-3.5-turbo-instruct"), (.openai, .embedding, "text-embedding-3-small"),
    (.openai, .responses, "o3"), (.anthropic, .messages, "claude-sonnet-4-5"), (.gemini, .generate, "gemini-2.5-pro"),
]

/// The input split into a scenario (first byte) and the rest.
package func scenario(_ data: UnsafePointer<UInt8>?, _ size: Int) -> (format: ProviderFormat, endpoint: Endpoint, model: String, rest: UnsafeBufferPointer<UInt8>)? {
    guard let data, size > 0 else { return nil }
    let pick = scenarios[Int(data[0]) % scenarios.count]
    return (pick.format, pick.endpoint, pick.model, UnsafeBufferPointer(start: data + 1, count: size - 1))
}

package let pricing = PricingTable.builtIn()

/// Prices `usage` as the proxy does (bounded first) and checks what must hold for any input.
package func priceAndCheck(_ usage: Usage, model: String, markupPPM: Int64 = 200_000) {
    let (bounded, _) = usage.bounded()
    precondition((0...Usage.maxTokens).contains(bounded.inputTokens) && (0...Usage.maxTokens).contains(bounded.outputTokens))
    precondition(bounded.cachedInputTokens + bounded.cacheWriteTokens <= bounded.inputTokens)
    guard let price = pricing.lookup(model)?.price else { return }
    let cost = CostCalculator.cost(bounded, price: price)
    precondition(cost.costNanos >= 0 && cost.costNanos <= CostCalculator.maxRequestNanos, "cost out of bounds")
    _ = CostCalculator.cost(usage, price: price)  // unbounded too: must not trap
    _ = CostCalculator.charged(cost.costNanos, markup: Markup(partsPerMillion: markupPPM))
}
