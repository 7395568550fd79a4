/// `2025-01-01T00:00:00.123Z` for a Unix time in milliseconds, written by hand.
///
/// Foundation's `ISO8601DateFormatter` builds an ICU formatter each time it is made; the webhook
/// worker formatted one timestamp per finished job that way and `perf` put it at 3 % of all CPU
/// of `sluice serve`. This is plain arithmetic (days to civil date, after Howard Hinnant's
/// published algorithm), for UTC only.
public enum ISO8601Milliseconds {
    /// The latest instant written: 9999-12-31T23:59:59.999Z. Times outside 1970…9999 are
    /// clamped, so a bad record's value still gives a well-formed timestamp.
    static let maxMs: Int64 = 253_402_300_799_999

    public static func format(ms: Int64) -> String {
        let ms = min(max(ms, 0), maxMs)
        let days = ms / 86_400_000
        let dayMs = ms % 86_400_000
        let (year, month, day) = civil(daysSinceEpoch: days)
        var out = [UInt8]()
        out.reserveCapacity(24)
        append(year, digits: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        append(month, digits: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        append(day, digits: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        append(dayMs / 3_600_000, digits: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(dayMs / 60_000 % 60, digits: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(dayMs / 1_000 % 60, digits: 2, to: &out)
        out.append(UInt8(ascii: "."))
        append(dayMs % 1_000, digits: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Year, month (1…12) and day (1…31) of a day count since 1970-01-01 (non-negative).
    static func civil(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func append(_ value: Int64, digits: Int, to out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<digits { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
