import Foundation
import FuzzSupport
import TollgateCore

/// A pricing file as an operator might get it wrong: loaded, looked up, and used to price
/// and reserve absurd usage without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPricing(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard let table = try? PricingTable(json: Data(bytes: data, count: size)) else { return 0 }
    for name in table.models.keys.prefix(8) + ["gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929"] {
        guard let price = table.lookup(name)?.price else { continue }
        for usage in [Usage(inputTokens: 1000, outputTokens: 500, cachedInputTokens: 100), Usage(inputTokens: .max, outputTokens: .max)] {
            let cost = CostCalculator.cost(usage.bounded().usage, price: price)
            precondition(cost.costNanos <= CostCalculator.maxRequestNanos)
        }
        _ = CostCalculator.worstCaseNanos(inputTokens: .max, outputCap: nil, price: price)
    }
    return 0
}

@_cdecl("FuzzPricing_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzPricing)
}
