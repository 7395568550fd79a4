import Foundation

/// The one JSON encoder and decoder setup for every envelope Sluice writes or reads.
///
/// Kept in one place so that every producer writes the same bytes for the same value.
public enum Wire {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Milliseconds since the Unix epoch, the timestamp unit of every envelope.
    public static func nowMs() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
