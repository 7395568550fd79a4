/// The canonical JSON form that the audit hash chain and checkpoint signatures cover.
///
/// `serialized()` is tuned for speed and may change; a hash chain must not. This form is fixed
/// and defined byte for byte, so that a third party can reproduce it from the JSON alone:
///
/// - no whitespace anywhere;
/// - object members sorted by the UTF-8 bytes of their keys (unsigned byte order), each key once;
/// - strings as UTF-8, unnormalised, with `"` and `\` escaped as `\"` and `\\`, U+000A, U+000D
///   and U+0009 as `\n`, `\r`, `\t`, every other code point below U+0020 as `\u00xx` (lowercase
///   hex), and every other character as its raw UTF-8 bytes (no `\u` escapes, `/` not escaped);
/// - `true`, `false`, `null`;
/// - a number whose value is an integer of magnitude below 2^53 as its shortest decimal
///   integer (`-0` as `0`, `1e3` and `1000.0` as `1000`); an integer held as a 64-bit integer
///   as its decimal digits; any other number as the shortest text that reads back as the same
///   IEEE 754 double, in Swift's `description` form (`0.1`, `1e-07`, `1.5e+300`,
///   `9007199254740992.0`). Non-finite
///   numbers cannot occur (the parser refuses them) and are written as `null`.
extension JSONValue {
    /// The canonical bytes of this value (see the type's documentation).
    public func canonicalJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writeCanonical(into: &out)
        return out
    }

    /// Appends the canonical bytes of this value to `out`.
    public func writeCanonical(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): Self.writeCanonicalNumber(d, into: &out)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            let sorted = fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (i, field) in sorted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(field.key, into: &out)
                out.append(UInt8(ascii: ":"))
                field.value.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// 2^53: below it every integer is exactly a double, so "integral" means one thing.
    private static let exactIntegerLimit: Double = 9_007_199_254_740_992

    private static func writeCanonicalNumber(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        if d.rounded(.towardZero) == d, abs(d) < exactIntegerLimit {
            // Int64(exactly:) cannot fail below 2^53; `-0.0` becomes 0.
            out.append(contentsOf: String(Int64(exactly: d) ?? 0).utf8)
        } else {
            out.append(contentsOf: d.description.utf8)
        }
    }
}
