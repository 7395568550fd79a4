/// A type with a JSON form of its own, read and written through `JSONValue` rather than
/// Codable (see `JSONValue+Parsing.swift` for why).
public protocol JSONRepresentable: Sendable {
    /// - Throws: `JSONShapeError` naming the field that is missing or of the wrong type.
    init(json: JSONValue) throws(JSONShapeError)
    var json: JSONValue { get }
    /// Appends the JSON text of ``json``. The default builds the tree and writes it; the types
    /// on every job's path write their fields straight into the bytes (``JSONObjectStream``).
    func writeJSON(into out: inout [UInt8])
}

extension JSONRepresentable {
    public func writeJSON(into out: inout [UInt8]) {
        json.write(into: &out)
    }
}

extension JSONValue: JSONRepresentable {
    public init(json: JSONValue) { self = json }
    public var json: JSONValue { self }
}

/// A JSON document that parsed but does not have the expected shape.
public struct JSONShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// Reads the fields of one JSON object, naming the field in every error.
public struct JSONObjectReader {
    public let fields: [String: JSONValue]
    let path: String

    public init(_ json: JSONValue, path: String) throws(JSONShapeError) {
        guard case .object(let fields) = json else {
            throw JSONShapeError(path: path, reason: "expected an object, got \(json.typeName)")
        }
        self.fields = fields
        self.path = path
    }

    /// The value, or nil when absent or null.
    public func optional(_ key: String) -> JSONValue? {
        guard let v = fields[key], !v.isNull else { return nil }
        return v
    }

    public func string(_ key: String) throws(JSONShapeError) -> String {
        guard let s = try optionalString(key) else { throw missing(key) }
        return s
    }

    public func optionalString(_ key: String) throws(JSONShapeError) -> String? {
        guard let v = optional(key) else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, "string", v) }
        return s
    }

    public func int(_ key: String) throws(JSONShapeError) -> Int64 {
        guard let i = try optionalInt(key) else { throw missing(key) }
        return i
    }

    public func optionalInt(_ key: String) throws(JSONShapeError) -> Int64? {
        guard let v = optional(key) else { return nil }
        guard let i = v.intValue else { throw wrongType(key, "integer", v) }
        return i
    }

    public func object<T: JSONRepresentable>(_ key: String, as type: T.Type) throws(JSONShapeError) -> T? {
        guard let v = optional(key) else { return nil }
        return try T(json: v)
    }

    public func missing(_ key: String) -> JSONShapeError {
        JSONShapeError(path: "\(path).\(key)", reason: "required")
    }

    public func invalid(_ key: String, _ reason: String) -> JSONShapeError {
        JSONShapeError(path: "\(path).\(key)", reason: reason)
    }

    private func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> JSONShapeError {
        JSONShapeError(path: "\(path).\(key)", reason: "expected \(expected), got \(value.typeName)")
    }
}

/// Builds a JSON object, leaving out nil values.
public struct JSONObjectWriter {
    public private(set) var fields: [String: JSONValue] = [:]

    public init() {}

    public mutating func set(_ key: String, _ value: JSONValue?) {
        if let value { fields[key] = value }
    }

    public mutating func set(_ key: String, _ value: String?) {
        if let value { fields[key] = .string(value) }
    }

    public mutating func set(_ key: String, _ value: Int64?) {
        if let value { fields[key] = .int(value) }
    }

    public mutating func set(_ key: String, _ value: Int?) {
        if let value { fields[key] = .int(Int64(value)) }
    }

    public mutating func set(_ key: String, _ value: (some JSONRepresentable)?) {
        if let value { fields[key] = value.json }
    }

    public var json: JSONValue { .object(fields) }
}

/// Writes one JSON object straight into bytes, leaving out nil values, without building a
/// `JSONValue` tree first.
///
/// Every job crosses several envelopes (job, `job.accepted`, result, the 202's body); building a
/// dictionary for each only to serialize it at once was a good part of the allocations `perf`
/// showed on the accept path. Callers set keys in ascending byte order, the order
/// ``JSONValue/write(into:)`` uses, so both give the same bytes (a test checks).
public struct JSONObjectStream {
    private var empty = true

    /// Opens the object at the end of `out`.
    public init(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
    }

    private mutating func key(_ key: StaticString, into out: inout [UInt8]) {
        if !empty { out.append(UInt8(ascii: ",")) }
        empty = false
        out.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    public mutating func set(_ key: StaticString, _ value: String?, into out: inout [UInt8]) {
        guard let value else { return }
        self.key(key, into: &out)
        JSONValue.writeString(value, into: &out)
    }

    public mutating func set(_ key: StaticString, _ value: Int64?, into out: inout [UInt8]) {
        guard let value else { return }
        self.key(key, into: &out)
        JSONValue.int(value).write(into: &out)
    }

    public mutating func set(_ key: StaticString, _ value: Int?, into out: inout [UInt8]) {
        guard let value else { return }
        set(key, Int64(value), into: &out)
    }

    public mutating func set(_ key: StaticString, _ value: Double?, into out: inout [UInt8]) {
        guard let value else { return }
        self.key(key, into: &out)
        JSONValue.double(value).write(into: &out)
    }

    public mutating func set(_ key: StaticString, _ value: JSONValue?, into out: inout [UInt8]) {
        guard let value else { return }
        self.key(key, into: &out)
        value.write(into: &out)
    }

    public mutating func set(_ key: StaticString, _ value: (some JSONRepresentable)?, into out: inout [UInt8]) {
        guard let value else { return }
        self.key(key, into: &out)
        value.writeJSON(into: &out)
    }

    /// Closes the object.
    public func close(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "}"))
    }
}
