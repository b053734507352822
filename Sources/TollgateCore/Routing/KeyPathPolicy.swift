/// Which paths a Tollgate key may reach (issue: hardening; docs/security.md).
///
/// A Tollgate key spends Tollgate's own provider credential, so it may reach only what Tollgate
/// meters and polices — the metered endpoints — and a short list of free ones (model listings,
/// token counting, moderation). Billable endpoints Tollgate cannot meter yet (batches, files,
/// images, audio, fine-tuning, …) are refused unless the configuration allows them for that key
/// (`keys.unmetered_paths`), and then they still answer to the key's model list and budgets.
/// Passthrough traffic spends the client's own key and is not restricted here.
package struct KeyPathPolicy: Sendable {
    /// Extra path globs (`Glob`, matched against the path after the provider segment) per key
    /// id; `*` applies to every key.
    package var unmeteredPaths: [String: [String]]

    package init(unmeteredPaths: [String: [String]] = [:]) {
        self.unmeteredPaths = unmeteredPaths
    }

    /// How a key's request to a path is treated.
    package enum Verdict: Sendable, Equatable {
        /// A metered endpoint, or a free one: the usual checks.
        case allowed
        /// Billable but unmetered, allowed by configuration for this key: the model list and
        /// budgets still apply.
        case allowedUnmetered
        case refused
    }

    package func verdict(keyID: String, format: ProviderFormat, endpoint: Endpoint, path: Substring) -> Verdict {
        if endpoint.isMetered || Self.isFree(format: format, path: path) { return .allowed }
        let patterns = (unmeteredPaths["*"] ?? []) + (unmeteredPaths[keyID] ?? [])
        let text = String(path)
        return patterns.contains { Glob.matches($0, text) } ? .allowedUnmetered : .refused
    }

    /// Free endpoints of each wire format (the path after the provider segment, normalized).
    package static func isFree(format: ProviderFormat, path: Substring) -> Bool {
        let wire = format.wire
        guard let rest = wire.versionedRest(path.split(separator: "/", omittingEmptySubsequences: true)[...]), !rest.isEmpty else {
            return false
        }
        return wire.isFree(rest)
    }
}
