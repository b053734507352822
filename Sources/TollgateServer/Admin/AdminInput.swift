import Foundation
import TollgateCore

/// A JSON object sent to the admin API (or built by the CLI from its flags), read field by field
/// with errors that name the field (SPEC §9: 400 with a message naming the field).
package struct AdminInput: @unchecked Sendable {
    /// Parsed JSON values: String, NSNumber, Bool, NSNull, arrays and dictionaries of them.
    package let values: [String: Any]

    package init(_ values: [String: Any]) {
        self.values = values
    }

    /// Parses a request body; an empty body is an empty object.
    package init(json bytes: some Collection<UInt8>) throws(AdminError) {
        guard bytes.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
            self.init([:])
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let values = object as? [String: Any] else {
            throw AdminError(.badRequest, code: "invalid_request", "The body must be a JSON object.")
        }
        self.init(values)
    }

    /// Refuses fields the endpoint does not know, so a typo is not silently ignored.
    package func allowOnly(_ fields: Set<String>) throws(AdminError) {
        if let unknown = values.keys.sorted().first(where: { !fields.contains($0) }) {
            throw AdminError.invalid(unknown, "is not a known field (known: \(fields.sorted().joined(separator: ", "))).")
        }
    }

    package func has(_ field: String) -> Bool { values[field] != nil }

    /// Present and JSON null: clears an optional field on update.
    package func isNull(_ field: String) -> Bool { values[field] is NSNull }

    package func string(_ field: String) throws(AdminError) -> String? {
        switch values[field] {
        case nil, is NSNull: return nil
        case let text as String: return text
        default: throw .invalid(field, "must be a string.")
        }
    }

    package func required(_ field: String) throws(AdminError) -> String {
        guard let text = try string(field), !text.isEmpty else { throw .invalid(field, "is required.") }
        return text
    }

    /// A slug (`[a-z0-9][a-z0-9_-]*`), as org ids are.
    package func slug(_ field: String) throws(AdminError) -> String? {
        guard let text = try string(field) else { return nil }
        guard AttributionHeaders.isSlug(text) else { throw .invalid(field, "must be a slug ([a-z0-9][a-z0-9_-]*), got '\(text)'.") }
        return text
    }

    package func choice<E: RawRepresentable & CaseIterable>(_ field: String, _: E.Type) throws(AdminError) -> E?
    where E.RawValue == String {
        guard let text = try string(field) else { return nil }
        guard let value = E(rawValue: text) else {
            throw .invalid(field, "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'.")
        }
        return value
    }

    /// JSON true/false arrive as NSNumber too; their type code is `c` (char).
    private static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    private func number(_ field: String) throws(AdminError) -> Double? {
        switch values[field] {
        case nil, is NSNull: return nil
        case let number as NSNumber where !Self.isBoolean(number): return number.doubleValue
        case let text as String:
            guard let value = Double(text) else { throw .invalid(field, "must be a number.") }
            return value
        default: throw .invalid(field, "must be a number.")
        }
    }

    /// `true` or `false` (JSON booleans only).
    package func bool(_ field: String) throws(AdminError) -> Bool? {
        switch values[field] {
        case nil, is NSNull: return nil
        case let number as NSNumber where Self.isBoolean(number): return number.boolValue
        case let value as Bool: return value
        default: throw .invalid(field, "must be true or false.")
        }
    }

    /// A positive whole number.
    package func positiveInt(_ field: String) throws(AdminError) -> Int? {
        guard let value = try number(field) else { return nil }
        guard value >= 1, value <= 1e12, value == value.rounded() else { throw .invalid(field, "must be a positive whole number.") }
        return Int(value)
    }

    /// Dollars (≥ 0) as nano-dollars, exact for any amount written with at most 9 decimals.
    package func usd(_ field: String) throws(AdminError) -> Int64? {
        guard let value = try number(field) else { return nil }
        guard value >= 0, value < 9e9 else { throw .invalid(field, "must be a dollar amount ≥ 0.") }
        return Int64((value * 1e9).rounded())
    }

    /// A percentage (≥ 0) as parts per million: 20 → 200 000.
    package func percentPPM(_ field: String) throws(AdminError) -> Int64? {
        guard let value = try number(field) else { return nil }
        guard value >= 0, value <= 100_000 else { throw .invalid(field, "must be a percentage ≥ 0 (20 means 20 %).") }
        return Int64((value * 10_000).rounded())
    }

    /// Fractions in [0.0001, 10] as basis points: [0.5, 0.8, 1.0] → [5000, 8000, 10000].
    package func fractions(_ field: String) throws(AdminError) -> [Int64]? {
        switch values[field] {
        case nil, is NSNull: return nil
        case let list as [Any]:
            return try list.map { element throws(AdminError) in
                // Checked after rounding to basis points: 0.00004 would otherwise be stored as 0, a
                // threshold every request crosses.
                guard let number = element as? NSNumber, !Self.isBoolean(number), number.doubleValue.isFinite,
                    case let bp = Int64((min(max(number.doubleValue, 0), 11) * 10_000).rounded()), bp >= 1, bp <= 100_000
                else { throw .invalid(field, "must be a list of fractions of the limit from 0.0001 to 10, such as [0.5, 0.8, 1.0].") }
                return bp
            }
        default: throw .invalid(field, "must be a list of fractions of the limit, such as [0.5, 0.8, 1.0].")
        }
    }

    package func strings(_ field: String) throws(AdminError) -> [String]? {
        switch values[field] {
        case nil, is NSNull: return nil
        case let list as [Any]:
            return try list.map { element throws(AdminError) in
                guard let text = element as? String, !text.isEmpty else { throw .invalid(field, "must be a list of strings.") }
                return text
            }
        default: throw .invalid(field, "must be a list of strings.")
        }
    }

    /// An ISO-8601 time as Unix milliseconds.
    package func time(_ field: String) throws(AdminError) -> Int64? {
        guard let text = try string(field) else { return nil }
        do {
            return try TimeRange.instant(text, nowMs: 0, field: field, relative: false)
        } catch {
            throw .invalid(field, "must be an ISO-8601 time such as 2026-12-31T00:00:00Z, got '\(text)'.")
        }
    }
}
