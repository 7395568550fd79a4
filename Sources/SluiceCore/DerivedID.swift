/// Identifiers computed from names instead of drawn at random (RFC 9562 version 8 layout).
///
/// A redelivered job must produce the same audit event ids (so the ledger ignores the second
/// `job.started`), and a retried `Idempotency-Key` must name the same job on every ingress
/// process; both need an id that is a pure function of what identifies the thing. Two
/// independent 64-bit FNV-1a hashes with a final avalanche give 122 usable bits: plenty against
/// accidental collisions. The inputs are not secret and the ids are not a security boundary
/// (every record is also scoped by tenant), so a cryptographic hash would buy nothing here.
public enum DerivedID {
    /// The id of `parts`, in order; a separator byte keeps `("ab", "c")` and `("a", "bc")` apart.
    public static func make(_ parts: String...) -> String {
        make(parts)
    }

    public static func make(_ parts: [String]) -> String {
        var high: UInt64 = 0xcbf2_9ce4_8422_2325
        var low: UInt64 = 0x6c62_272e_07bb_0142
        for part in parts {
            for byte in part.utf8 {
                high = (high ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                low = (low ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            high = (high ^ 0x1F) &* 0x0000_0100_0000_01b3
            low = (low ^ 0x1E) &* 0x0000_0100_0000_01b3
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        let a = avalanche(high), b = avalanche(low ^ high)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(7 - i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(7 - i)))
        }
        bytes[6] = 0x80 | (bytes[6] & 0x0F)  // version 8
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // RFC 9562 variant
        return UUIDv7.format(bytes)
    }

    /// SplitMix64's finaliser: every input bit flips about half of the output bits.
    private static func avalanche(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
