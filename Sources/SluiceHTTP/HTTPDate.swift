/// The three date forms RFC 9110 §5.6.7 requires recipients to read, without Foundation's
/// formatters (locale-dependent and slow):
/// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`,
/// and asctime `Sun Nov  6 08:49:37 1994`.
public enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let shortDays: Set<Substring> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longDays: Set<Substring> = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// Seconds since the Unix epoch (negative before 1970), or nil when `text` is not an HTTP date.
    public static func unixSeconds(_ text: String) -> Int64? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        switch parts.count {
        case 6 where parts[0].hasSuffix(",") && parts[5] == "GMT":  // IMF-fixdate
            guard shortDays.contains(parts[0].dropLast()), parts[1].count == 2, parts[3].count == 4 else { return nil }
            return make(year: number(parts[3]), month: parts[2], day: parts[1], time: parts[4])
        case 4 where parts[0].hasSuffix(",") && parts[3] == "GMT":  // RFC 850
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard longDays.contains(parts[0].dropLast()), date.count == 3, date[0].count == 2, date[2].count == 2,
                let twoDigits = number(date[2])
            else { return nil }
            // A fixed pivot (00–69 → 20xx, 70–99 → 19xx) rather than RFC 9110's "at most 50 years
            // ahead": they differ only for years half a century off, which no retry hint names.
            let year = twoDigits < 70 ? 2000 + twoDigits : 1900 + twoDigits
            return make(year: year, month: date[1], day: date[0], time: parts[2])
        case 5 where shortDays.contains(parts[0]):  // asctime
            guard parts[4].count == 4, (1...2).contains(parts[2].count) else { return nil }
            return make(year: number(parts[4]), month: parts[1], day: parts[2], time: parts[3])
        default:
            return nil
        }
    }

    private static func make(year: Int64?, month: Substring, day: Substring, time: Substring) -> Int64? {
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard let y = year, (1...9999).contains(y),
            let m = months.firstIndex(where: { $0 == month }).map({ Int64($0 + 1) }),
            let d = number(day), (1...daysIn(month: m, year: y)).contains(d),
            clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = number(clock[0]), (0...23).contains(hour),
            let minute = number(clock[1]), (0...59).contains(minute),
            let second = number(clock[2]), (0...60).contains(second)  // 60: a leap second
        else { return nil }
        return daysFromEpoch(year: y, month: m, day: d) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    /// ASCII digits only (no sign, no spaces), at most four of them.
    private static func number(_ text: Substring) -> Int64? {
        guard (1...4).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int64(text)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func daysFromEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
