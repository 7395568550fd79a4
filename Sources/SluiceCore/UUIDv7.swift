import Foundation
import Synchronization

/// Time-ordered identifiers (RFC 9562 version 7) for jobs, events and deliveries.
///
/// Ordered ids keep the ledger's B-trees append-mostly and let an id tell roughly when a job
/// was made. Within one millisecond a counter in `rand_a` keeps ids from one process increasing.
public enum UUIDv7 {
    private static let state = Mutex<(ms: UInt64, counter: UInt16)>((0, 0))

    /// A new lowercase, hyphenated UUIDv7 string.
    public static func generate(now: Date = Date()) -> String {
        var ms = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var random = BufferedRandom()
        let counter: UInt16 = state.withLock { s in
            if ms <= s.ms {
                ms = s.ms
                s.counter &+= 1
                if s.counter > 0x0FFF {  // counter exhausted: borrow the next millisecond
                    s.ms += 1
                    ms = s.ms
                    s.counter = UInt16.random(in: 0...0x01FF, using: &random)
                }
            } else {
                s.ms = ms
                s.counter = UInt16.random(in: 0...0x01FF, using: &random)
            }
            return s.counter
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: counter >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        let tail = random.next() as UInt64
        for i in 8..<16 { bytes[i] = UInt8(truncatingIfNeeded: tail >> (8 * UInt64(i - 8))) }
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return format(bytes)
    }

    /// Whether `string` is a well-formed UUID of any version (used to reject junk path ids early).
    public static func isWellFormed(_ string: String) -> Bool {
        let utf8 = Array(string.utf8)
        guard utf8.count == 36 else { return false }
        for (i, c) in utf8.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
                return false
            }
        }
        return true
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func format(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
