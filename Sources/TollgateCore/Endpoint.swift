/// The kind of call a request makes, as recorded in usage events (SPEC §5 `endpoint`).
///
/// Every path that is not a metered endpoint is `.other`: forwarded unchanged and logged unmetered.
package enum Endpoint: String, Sendable, Codable, CaseIterable {
    case chat
    case completion
    case embedding
    case responses
    case messages
    case generate
    case other

    /// Whether tokens and cost are read from this endpoint's answers.
    package var isMetered: Bool { self != .other }
}
