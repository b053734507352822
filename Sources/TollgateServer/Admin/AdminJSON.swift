import Foundation
import TollgateCore

/// How every admin answer becomes JSON: typed `Encodable` values through `AdminJSONEncoder`.
///
/// Field names are the SPEC's snake_case names, spelled out in each type's `CodingKeys`; members in
/// name order (stable output for scripts and diffs); money as exact decimal numbers (`Money`).
package enum AdminJSON {
    /// The JSON text of an answer. Our answers hold only strings, integers, finite doubles and
    /// money, which always encode, so a failure here is a programming error.
    package static func string(_ value: some Encodable) -> String {
        do {
            return try AdminJSONEncoder.encode(value)
        } catch {
            preconditionFailure("an admin answer failed to encode: \(error)")
        }
    }
}

/// An optional member written as `null` when absent, as SPEC §9 answers show every field
/// (synthesized `Encodable` would leave an absent optional out).
@propertyWrapper
package struct Nullable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    package var wrappedValue: Value?

    package init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A `Nullable` member that is missing altogether reads as nil, like a plain optional.
    package func decode<Value>(_ type: Nullable<Value>.Type, forKey key: Key) throws -> Nullable<Value> {
        try decodeIfPresent(type, forKey: key) ?? Nullable(wrappedValue: nil)
    }
}

/// A list answer: `data`, and `next_cursor` (null on the last page).
package struct ListAnswer<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    package var data: [Item]
    @Nullable package var nextCursor: String?

    enum CodingKeys: String, CodingKey { case data, nextCursor = "next_cursor" }

    package init(data: [Item], nextCursor: String? = nil) {
        self.data = data
        self.nextCursor = nextCursor
    }
}

/// The top-level members of an answer as `(name, JSON text)`, for `tollgate` tables and CSV rows:
/// the exact text the API sends (money keeps its digits; parsing the JSON back with Foundation
/// would turn it into binary floats).
package enum AnswerCells {
    package static func of(_ value: some Encodable) -> [String: String] {
        var cells: [String: String] = [:]
        for (name, json) in JSONText.members(of: AdminJSON.string(value)) { cells[name] = json }
        return cells
    }

    /// The text a cell shows in a terminal: a string without its quotes, null or absent as `-`.
    package static func display(_ json: String?) -> String {
        guard let json, json != "null" else { return "-" }
        guard json.hasPrefix("\"") else { return json }
        return (try? JSONDecoder().decode(String.self, from: Data(json.utf8))) ?? json
    }
}
