import ArgumentParser
import Foundation
import TollgateCore
import TollgateServer

/// `tollgate pricing check|lookup MODEL`: inspect the pricing file Tollgate would use.
struct PricingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pricing",
        abstract: "Check the pricing file, or show what a model costs.",
        subcommands: [Check.self, Lookup.self])

    struct Options: ParsableArguments {
        @Option(help: ArgumentHelp("Pricing file (default ./pricing.json, else the built-in copy).", valueName: "file"))
        var pricing: String?

        func load() throws -> PricingStore {
            do {
                return try PricingStore.load(path: pricing ?? ProcessInfo.processInfo.environment["TOLLGATE_PRICING"])
            } catch let error as ConfigError {
                throw ValidationError(error.message)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate the pricing file and summarize it.")
        @OptionGroup var options: Options

        func run() throws {
            let store = try options.load()
            let table = store.current
            print("pricing: \(store.source), version \(table.version)")
            print("models: \(table.models.count), aliases: \(table.aliases.count)")
            let broken = table.aliases.filter { table.models[$0.value] == nil }
            for (alias, target) in broken.sorted(by: { $0.key < $1.key }) {
                print("alias \(alias) → \(target): target not listed")
            }
            if !broken.isEmpty { throw ExitCode.failure }
            print("ok")
        }
    }

    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the prices that apply to MODEL (USD per 1M tokens).")
        @OptionGroup var options: Options
        @Argument(help: "Model name as a client sends it, e.g. gpt-4o-2024-08-06.") var model: String

        func run() throws {
            let table = try options.load().current
            guard let (name, price) = table.lookup(model) else {
                print("\(model): not priced (requests are recorded unpriced; add it to pricing.json)")
                throw ExitCode.failure
            }
            func usd(_ micro: Int64) -> String { Money.decimalString(micro * 1000) }
            print("model:         \(model)\(name == model ? "" : " → \(name)")")
            print("input:         $\(usd(price.rates.input)) / 1M tokens")
            print("output:        $\(usd(price.rates.output)) / 1M tokens")
            print("cached input:  $\(usd(price.rates.cachedInput)) / 1M tokens")
            print("cache write:   $\(usd(price.rates.cacheWrite)) / 1M tokens")
            for tier in price.tiers {
                print("above \(tier.aboveInputTokens) input tokens: input $\(usd(tier.rates.input)), output $\(usd(tier.rates.output))")
            }
            if let max = price.maxOutputTokens { print("max output:    \(max) tokens") }
            print("pricing version: \(table.version)")
        }
    }
}
