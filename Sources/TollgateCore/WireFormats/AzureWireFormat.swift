/// Azure OpenAI (SPEC §14): OpenAI's request bodies, answers, streams, usage and error shape,
/// under Azure's routes — `/openai/deployments/{deployment}/chat/completions?api-version=…` and
/// the v1 API's `/openai/v1/chat/completions` — with the key in an `api-key` header.
struct AzureWireFormat: WireFormat {
    private let openAI = OpenAIWireFormat()

    func bodyFormat(forPath path: Substring) -> ProviderFormat { .openai }

    func model(inPath path: Substring) -> String? { RequestInspector.azureDeployment(path: path) }

    /// The same suffixes as OpenAI's: both route shapes end in the OpenAI path.
    func endpoint(forPath path: Substring) -> Endpoint { openAI.endpoint(forPath: path) }

    /// `/openai/v1/…` and `/openai/…` (the dated API, versioned by `api-version` in the query).
    func versionedRest(_ segments: ArraySlice<Substring>) -> ArraySlice<Substring>? {
        guard segments.first == "openai" else { return nil }
        let rest = segments.dropFirst()
        return rest.first == "v1" ? rest.dropFirst() : rest
    }

    /// GET …/models[/{id}] (the models a resource offers), as OpenAI's.
    func isFree(_ rest: ArraySlice<Substring>) -> Bool { openAI.isFree(rest) }

    func credentialHeader(apiKey: String) -> (name: String, value: String) { ("api-key", apiKey) }

    func errorBody(_ error: RequestError, quotedMessage message: String, quotedCode code: String) -> String {
        openAI.errorBody(error, quotedMessage: message, quotedCode: code)
    }

    func usage(_ reported: ProviderUsage) -> Usage { openAI.usage(reported) }
}
