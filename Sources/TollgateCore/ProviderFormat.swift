/// The wire format a provider speaks: decides the error shape, the credential header and how usage is read.
package enum ProviderFormat: String, Sendable, Codable, CaseIterable {
    case openai
    case anthropic
    case gemini
}
