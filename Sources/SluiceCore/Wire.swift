import Foundation

/// How every envelope is written to and read from Kafka: compact JSON with sorted keys, so
/// that every producer writes the same bytes for the same value.
public enum Wire {
    public static func encode(_ value: some JSONRepresentable) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        value.writeJSON(into: &out)
        return out
    }

    /// - Throws: `JSONParseError` for text that is not JSON, `JSONShapeError` for JSON that is
    ///   not a `T`.
    public static func decode<T: JSONRepresentable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try T(json: try JSONValue.parse(bytes))
    }

}
