import Foundation

/// Writes the stub's answers. The provider wire formats are modelled as Codable structs here
/// (they mirror the vendors' documented shapes), so Foundation's encoder is the natural fit.
enum StubJSON {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
    }
}
