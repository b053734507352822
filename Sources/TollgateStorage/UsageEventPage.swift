import TollgateCore

/// Where a page of usage events ends; opaque to clients as `encoded`.
package struct UsageEventCursor: Sendable, Hashable {
    package var startedAtMs: Int64
    package var requestID: String

    package init(startedAtMs: Int64, requestID: String) {
        self.startedAtMs = startedAtMs
        self.requestID = requestID
    }

    /// `<started_at>:<request_id>`, for the API's `next_cursor`.
    package var encoded: String { "\(startedAtMs):\(requestID)" }

    /// Parses `encoded`; nil for anything else.
    package init?(encoded: String) {
        guard let colon = encoded.firstIndex(of: ":"), let startedAt = Int64(encoded[..<colon]) else { return nil }
        self.init(startedAtMs: startedAt, requestID: String(encoded[encoded.index(after: colon)...]))
    }
}

/// A page of usage events and the cursor of the next one (nil on the last page).
package struct UsageEventPage: Sendable, Equatable {
    package var events: [UsageEvent]
    package var nextCursor: UsageEventCursor?
}
