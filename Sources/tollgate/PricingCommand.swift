import ArgumentParser
import Foundation
import TollgateCore
import TollgateServer

/// `tollgate pricing check|lookup MODEL|import FILE`: inspect the pricing file Tollgate would use,
/// or update it from a LiteLLM price map.
struct PricingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pricing",
        abstract: "Check the pricing file, show what a model costs, or import a LiteLLM price map.",
        subcommands: [Check.self, Lookup.self, Import.self])

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

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Update the pricing file from a price map in LiteLLM's format.",
            discussion: """
                Reads FILE (LiteLLM's model_prices_and_context_window.json, or a file of the same shape \
                your team maintains), keeps the models of the providers Tollgate routes to, and prints \
                every model it would add or change, price by price, then writes the pricing file \
                under a new version (reload a running server with SIGHUP or POST /admin/pricing/reload). \
                Models the map does not list are kept as they are. With --dry-run it only prints.
                """)
        @Argument(help: "The price map to read.") var file: String
        @Option(help: ArgumentHelp("Pricing file to update (default ./pricing.json).", valueName: "file"))
        var pricing: String?
        @Flag(help: "Print what would change; write nothing.") var dryRun = false

        func run() throws {
            let target = pricing ?? ProcessInfo.processInfo.environment["TOLLGATE_PRICING"] ?? "pricing.json"
            guard let current = FileManager.default.contents(atPath: target) else {
                throw ValidationError("No pricing file at \(target): pass --pricing FILE (copy the shipped pricing.json to start from it).")
            }
            guard let mapData = FileManager.default.contents(atPath: file) else {
                throw ValidationError("Cannot read \(file).")
            }
            let before: PricingTable
            let imported: LiteLLMPriceMap.Result
            do {
                before = try PricingTable(json: current)
                imported = try LiteLLMPriceMap.read(mapData)
            } catch {
                throw ValidationError("\(error)")
            }
            let (text, after) = try Self.merged(String(decoding: current, as: UTF8.self), imported.entries, from: file)
            print("read \(imported.entries.count) models from \(file) (\(imported.skipped) left out: other providers or modes, or no price)")
            var added = 0, changed = 0
            for name in imported.entries.keys.sorted() {
                guard let new = after.models[name] else { continue }
                guard let old = before.models[name] else {
                    added += 1
                    print("+ \(name) (\(imported.entries[name]!.provider)): \(Self.describe(new))")
                    continue
                }
                let differences = Self.differences(old, new)
                if !differences.isEmpty {
                    changed += 1
                    print("~ \(name): \(differences.joined(separator: ", "))")
                }
            }
            let kept = before.models.keys.filter { imported.entries[$0] == nil }.count
            print("\(added) added, \(changed) changed, \(imported.entries.count - added - changed) unchanged, \(kept) kept (not in the map)")
            if dryRun || added + changed == 0 {
                print(dryRun ? "dry run: \(target) not written" : "nothing to write")
                return
            }
            let temporary = target + ".import-tmp"
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
                // rename(2): a server reloading meanwhile reads the old file or the new one, never half of one.
                guard rename(temporary, target) == 0 else { throw CocoaError(.fileWriteUnknown) }
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw ValidationError("Cannot write \(target): \(error.localizedDescription)")
            }
            print("wrote \(target), version \(after.version); reload a running server with SIGHUP or POST /admin/pricing/reload")
        }

        /// USD per 1M tokens, as the file writes it.
        private static func usd(_ micro: Int64) -> String { Money.decimalString(micro * 1000) }

        private static func describe(_ price: ModelPrice) -> String {
            "input $\(usd(price.rates.input)), output $\(usd(price.rates.output)) / 1M tokens"
                + (price.tiers.isEmpty ? "" : ", \(price.tiers.count) long-context tier(s)")
        }

        private static func differences(_ old: ModelPrice, _ new: ModelPrice) -> [String] {
            var lines: [String] = []
            for (label, a, b) in [
                ("input", old.rates.input, new.rates.input), ("output", old.rates.output, new.rates.output),
                ("cached input", old.rates.cachedInput, new.rates.cachedInput), ("cache write", old.rates.cacheWrite, new.rates.cacheWrite),
            ] where a != b {
                lines.append("\(label) $\(usd(a)) → $\(usd(b))")
            }
            if old.tiers != new.tiers { lines.append("long-context tiers \(old.tiers.count) → \(new.tiers.count)") }
            if old.maxOutputTokens != new.maxOutputTokens {
                lines.append("max output \(old.maxOutputTokens.map(String.init) ?? "-") → \(new.maxOutputTokens.map(String.init) ?? "-")")
            }
            return lines
        }

        /// The pricing file with the imported entries written over its models (one line each, by
        /// name), a new version and source; every other member kept as written. Checked by
        /// parsing it back, so a file that would not load is never written.
        static func merged(_ current: String, _ entries: [String: LiteLLMPriceMap.Entry], from file: String) throws -> (String, PricingTable) {
            var members = JSONText.members(of: current)
            guard let modelsIndex = members.firstIndex(where: { $0.name == "models" }) else {
                throw ValidationError("The pricing file has no \"models\" object.")
            }
            var models: [String: String] = [:]
            for (name, json) in JSONText.members(of: members[modelsIndex].json) {
                models[(try? JSONDecoder().decode(String.self, from: Data("\"\(name)\"".utf8))) ?? name] = json
            }
            for (name, entry) in entries { models[name] = entry.json }
            let now = Date()
            let stamp = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
            let time = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withTime])
            let previous = members.first { $0.name == "version" }.flatMap { try? JSONDecoder().decode(String.self, from: Data($0.json.utf8)) }
            let source = "LiteLLM price map \((file as NSString).lastPathComponent)" + (previous.map { ", imported over version " + $0 } ?? "")
            let replacements = [
                "version": JSONText.quoted("\(stamp).import-\(time)"), "source": JSONText.quoted(source), "updated": JSONText.quoted(stamp),
            ]
            for (name, json) in replacements {
                if let index = members.firstIndex(where: { $0.name == name }) {
                    members[index].json = json
                } else {
                    members.insert((name, json), at: 0)
                }
            }
            var lines: [String] = []
            for (name, json) in members {
                if name == "models" {
                    let body = models.keys.sorted().map { "    \(JSONText.quoted($0)): \(models[$0]!)" }
                    lines.append("  \"models\": {\n" + body.joined(separator: ",\n") + "\n  }")
                } else {
                    lines.append("  \"\(name)\": \(json)")
                }
            }
            let text = "{\n" + lines.joined(separator: ",\n") + "\n}\n"
            do {
                return (text, try PricingTable(json: Data(text.utf8)))
            } catch {
                throw ValidationError("The merged pricing file would not load (\(error)); nothing written.")
            }
        }
    }
}
