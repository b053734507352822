import Foundation
import TollgateCore

/// Writes an `Encodable` admin answer as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`
/// does — members sorted by their UTF-8 bytes, integers and floats in Swift's shortest form (no
/// `.0`), `Decimal` by its description, `nil` as `null` — except that money (`JSONNumberText`) is written from its own exact
/// digits.
///
/// Hand-written because Foundation's encoder can write an exact decimal number only through
/// `Decimal.description`, about 2 µs a value: a month of hourly stats (720 rows of 8 amounts) spent
/// 13 % of its time there, and another fifth in the encoder's boxing. This one builds a small tree
/// of members (objects merge when several containers write to one encoder, as `JSONEncoder`'s do)
/// and writes it once. `AdminJSONTests` holds it to `JSONEncoder`'s output.
enum AdminJSONEncoder {
    static func encode(_ value: some Encodable) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(try TreeEncoder.node(for: value, codingPath: []), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    fileprivate enum Node {
        /// JSON text: a number, a literal or a quoted string.
        case text(String)
        case object(ObjectNode)
        case array(ArrayNode)
        /// What a `superEncoder()` will hold once its caller is done with it.
        case deferred(TreeEncoder)
    }

    fileprivate final class ObjectNode {
        /// In the order written; a later member of the same name replaces an earlier one.
        var members: [(name: String, node: Node)] = []
    }

    fileprivate final class ArrayNode {
        var items: [Node] = []
    }

    /// How the last object's members were written: rows of a list share one layout, so it is
    /// sorted and its names quoted once per answer, not once per row.
    private struct Layout {
        var names: [String] = []
        /// Indices into the members in output order, a repeated name's earlier members left out.
        var order: [Int] = []
        /// Each kept member's `"name":`, in output order.
        var prefixes: [[UInt8]] = []

        init() {}

        init(_ names: [String]) {
            self.names = names
            let sorted = names.indices.sorted {
                // Stable, so of two members with one name the later one sorts last and is kept.
                names[$0] == names[$1] ? $0 < $1 : names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8)
            }
            for (position, index) in sorted.enumerated() where position + 1 == sorted.count || names[sorted[position + 1]] != names[index] {
                order.append(index)
                var prefix = ""
                JSONText.append(names[index], to: &prefix)
                prefixes.append(Array(prefix.utf8) + [UInt8(ascii: ":")])
            }
        }
    }

    private static func write(_ node: Node, to out: inout [UInt8]) {
        var layout = Layout()
        write(node, to: &out, layout: &layout)
    }

    private static func write(_ node: Node, to out: inout [UInt8], layout: inout Layout) {
        switch node {
        case .text(let text):
            out.append(contentsOf: text.utf8)
        case .array(let array):
            out.append(UInt8(ascii: "["))
            for (index, item) in array.items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, to: &out, layout: &layout)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            let names = object.members.map(\.name)
            if names != layout.names { layout = Layout(names) }
            let current = layout
            out.append(UInt8(ascii: "{"))
            for (position, index) in current.order.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: current.prefixes[position])
                write(object.members[index].node, to: &out, layout: &layout)
            }
            out.append(UInt8(ascii: "}"))
        case .deferred(let encoder):
            write(encoder.node ?? .object(ObjectNode()), to: &out, layout: &layout)
        }
    }
}

private typealias Node = AdminJSONEncoder.Node

private final class TreeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: Node?

    init(codingPath: [any CodingKey]) { self.codingPath = codingPath }

    /// The node of one value: scalars written at once, anything else through its `encode(to:)`.
    static func node(for value: some Encodable, codingPath: [any CodingKey]) throws -> Node {
        switch value {
        case let number as any JSONNumberText: return .text(number.jsonNumberText)
        case let decimal as Decimal: return .text(decimal.description)  // as `JSONEncoder` writes it
        case let string as String: return .text(quoted(string))
        case let integer as Int64: return .text(String(integer))
        case let integer as Int: return .text(String(integer))
        case let double as Double: return .text(try number(double, codingPath))
        case let bool as Bool: return .text(bool ? "true" : "false")
        default:
            let encoder = TreeEncoder(codingPath: codingPath)
            try value.encode(to: encoder)
            return encoder.node ?? .object(AdminJSONEncoder.ObjectNode())
        }
    }

    static func quoted(_ string: String) -> String {
        var out = ""
        JSONText.append(string, to: &out)
        return out
    }

    /// `JSONEncoder`'s text for a float: its `description` without a trailing `.0`; not finite throws.
    static func number<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F, _ codingPath: [any CodingKey]) throws -> String {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: codingPath, debugDescription: "\(value) is not valid JSON"))
        }
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: AdminJSONEncoder.ObjectNode
        if case .object(let existing)? = node {
            object = existing
        } else {
            object = AdminJSONEncoder.ObjectNode()
            node = .object(object)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: AdminJSONEncoder.ArrayNode
        if case .array(let existing)? = node {
            array = existing
        } else {
            array = AdminJSONEncoder.ArrayNode()
            node = .array(array)
        }
        return UnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: AdminJSONEncoder.ObjectNode
    let codingPath: [any CodingKey]

    private func put(_ node: Node, _ key: Key) { object.members.append((key.stringValue, node)) }

    mutating func encodeNil(forKey key: Key) throws { put(.text("null"), key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.text(value ? "true" : "false"), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.text(TreeEncoder.quoted(value)), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(.text(try TreeEncoder.number(value, codingPath + [key])), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(.text(try TreeEncoder.number(value, codingPath + [key])), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.text(String(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.text(String(value)), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(try TreeEncoder.node(for: value, codingPath: codingPath + [key]), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = AdminJSONEncoder.ObjectNode()
        put(.object(nested), key)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = AdminJSONEncoder.ArrayNode()
        put(.array(nested), key)
        return UnkeyedContainer(array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

    private func superEncoder(named name: String) -> any Encoder {
        let encoder = TreeEncoder(codingPath: codingPath)
        object.members.append((name, .deferred(encoder)))
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let array: AdminJSONEncoder.ArrayNode
    let codingPath: [any CodingKey]
    var count: Int { array.items.count }

    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "Index \(intValue!)" }
        init(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { nil }
    }

    private var here: [any CodingKey] { codingPath + [Index(intValue: array.items.count)] }

    mutating func encodeNil() throws { array.items.append(.text("null")) }
    mutating func encode(_ value: Bool) throws { array.items.append(.text(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { array.items.append(.text(TreeEncoder.quoted(value))) }
    mutating func encode(_ value: Double) throws { array.items.append(.text(try TreeEncoder.number(value, here))) }
    mutating func encode(_ value: Float) throws { array.items.append(.text(try TreeEncoder.number(value, here))) }
    mutating func encode(_ value: Int) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: Int8) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: Int16) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: Int32) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: Int64) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: UInt) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: UInt8) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: UInt16) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: UInt32) throws { array.items.append(.text(String(value))) }
    mutating func encode(_ value: UInt64) throws { array.items.append(.text(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        array.items.append(try TreeEncoder.node(for: value, codingPath: here))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = AdminJSONEncoder.ObjectNode()
        let path = here
        array.items.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = AdminJSONEncoder.ArrayNode()
        let path = here
        array.items.append(.array(nested))
        return UnkeyedContainer(array: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = TreeEncoder(codingPath: here)
        array.items.append(.deferred(encoder))
        return encoder
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ node: Node) { encoder.node = node }

    mutating func encodeNil() throws { set(.text("null")) }
    mutating func encode(_ value: Bool) throws { set(.text(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { set(.text(TreeEncoder.quoted(value))) }
    mutating func encode(_ value: Double) throws { set(.text(try TreeEncoder.number(value, codingPath))) }
    mutating func encode(_ value: Float) throws { set(.text(try TreeEncoder.number(value, codingPath))) }
    mutating func encode(_ value: Int) throws { set(.text(String(value))) }
    mutating func encode(_ value: Int8) throws { set(.text(String(value))) }
    mutating func encode(_ value: Int16) throws { set(.text(String(value))) }
    mutating func encode(_ value: Int32) throws { set(.text(String(value))) }
    mutating func encode(_ value: Int64) throws { set(.text(String(value))) }
    mutating func encode(_ value: UInt) throws { set(.text(String(value))) }
    mutating func encode(_ value: UInt8) throws { set(.text(String(value))) }
    mutating func encode(_ value: UInt16) throws { set(.text(String(value))) }
    mutating func encode(_ value: UInt32) throws { set(.text(String(value))) }
    mutating func encode(_ value: UInt64) throws { set(.text(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        set(try TreeEncoder.node(for: value, codingPath: codingPath))
    }
}
