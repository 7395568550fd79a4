import SluiceCore
import SluiceHTTP

/// Reads the rate-limit headers providers send into a ``RateLimitSnapshot``.
///
/// Headers are untrusted text that ends up in limiter arithmetic: counts must be plain
/// non-negative integers and are clamped to ``maxCount``; durations and reset times become
/// milliseconds clamped to ``maxResetMs``. A value that is anything else (`inf`, `nan`, `-1`,
/// `1e19` as a count, `soon`) is dropped, never guessed at.
enum RateLimitHeaders {
    static let maxCount = Int(Int32.max)
    static let maxResetMs = 86_400_000

    // MARK: - OpenAI and Azure: x-ratelimit-*

    /// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; resets are Go durations
    /// (`6m0s`, `1s`, `20ms`, `4m12.172s`), or bare seconds as some Azure regions send them.
    static func openAI(_ response: HTTPClientResponse) -> RateLimitSnapshot? {
        let snapshot = RateLimitSnapshot(
            requestLimit: count(response.header("x-ratelimit-limit-requests")),
            requestsRemaining: count(response.header("x-ratelimit-remaining-requests")),
            requestsResetMs: duration(response.header("x-ratelimit-reset-requests")),
            tokenLimit: count(response.header("x-ratelimit-limit-tokens")),
            tokensRemaining: count(response.header("x-ratelimit-remaining-tokens")),
            tokensResetMs: duration(response.header("x-ratelimit-reset-tokens"))
        )
        return snapshot.isEmpty ? nil : snapshot
    }

    // MARK: - Anthropic: anthropic-ratelimit-*

    /// `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`, resets as RFC 3339
    /// times. `tokens-*` is the most restrictive token limit in force; when it is absent the
    /// input-token limit (the one a prompt-heavy job meets first) stands in.
    static func anthropic(_ response: HTTPClientResponse, nowMs: Int64) -> RateLimitSnapshot? {
        func header(_ kind: String, _ field: String) -> String? { response.header("anthropic-ratelimit-\(kind)-\(field)") }
        let tokens = header("tokens", "limit") != nil || header("tokens", "remaining") != nil ? "tokens" : "input-tokens"
        let snapshot = RateLimitSnapshot(
            requestLimit: count(header("requests", "limit")),
            requestsRemaining: count(header("requests", "remaining")),
            requestsResetMs: resetTime(header("requests", "reset"), nowMs: nowMs),
            tokenLimit: count(header(tokens, "limit")),
            tokensRemaining: count(header(tokens, "remaining")),
            tokensResetMs: resetTime(header(tokens, "reset"), nowMs: nowMs)
        )
        return snapshot.isEmpty ? nil : snapshot
    }

    // MARK: - Values

    /// ASCII digits only, clamped to ``maxCount``.
    static func count(_ text: String?) -> Int? {
        guard let text else { return nil }
        let trimmed = text.trimmed
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        guard trimmed.utf8.count <= 10, let value = Int(trimmed) else { return maxCount }
        return min(value, maxCount)
    }

    /// A Go duration (`1h2m3.5s`, `20ms`, `0`) or bare decimal seconds, in milliseconds rounded
    /// up and clamped to ``maxResetMs``.
    static func duration(_ text: String?) -> Int? {
        guard let text else { return nil }
        var rest = Substring(text.trimmed)
        guard !rest.isEmpty else { return nil }
        if let seconds = RetryAfter.milliseconds(fromNumber: String(rest), unitMs: 1_000) { return min(seconds, maxResetMs) }
        var totalMs = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1, number.first != ".", number.last != ".",
                let value = Double(number)
            else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let unitMs: Double
            switch unit {
            case "h": unitMs = 3_600_000
            case "m": unitMs = 60_000
            case "s": unitMs = 1_000
            case "ms": unitMs = 1
            case "us", "µs", "μs": unitMs = 0.001
            case "ns": unitMs = 0.000_001
            default: return nil
            }
            totalMs += value * unitMs
            // Past the ceiling (or +inf from a huge number): no need to read further.
            if !(totalMs < Double(maxResetMs)) { return maxResetMs }
        }
        return Int(totalMs.rounded(.up))
    }

    /// Milliseconds from `nowMs` until the RFC 3339 time `text`; 0 when it has passed.
    static func resetTime(_ text: String?, nowMs: Int64) -> Int? {
        guard let text, let resetMs = RFC3339.unixMilliseconds(text.trimmed) else { return nil }
        let now = min(max(nowMs, Wire.timestampRangeMs.lowerBound), Wire.timestampRangeMs.upperBound)
        // Both lie within years 0...9999, far inside Int64.
        return Int(min(max(resetMs - now, 0), Int64(maxResetMs)))
    }
}

/// RFC 3339 timestamps (`2026-12-03T14:05:00Z`, `…T14:05:00.123+01:00`), without Foundation's
/// locale-dependent formatters.
enum RFC3339 {
    static func unixMilliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for i in range {
                let b = bytes[i]
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ i: Int, _ expected: Character...) -> Bool {
            i < bytes.count && expected.contains(Character(UnicodeScalar(bytes[i])))
        }
        guard let year = digits(0..<4), byte(4, "-"), let month = digits(5..<7), byte(7, "-"), let day = digits(8..<10),
            byte(10, "T", "t", " "), let hour = digits(11..<13), byte(13, ":"), let minute = digits(14..<16), byte(16, ":"),
            let second = digits(17..<19)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var index = 19
        var fractionMs = 0
        if byte(index, ".") {
            index += 1
            var scale = 100
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                fractionMs += Int(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offsetMinutes = 0
        if byte(index, "Z", "z") {
            index += 1
        } else if byte(index, "+", "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = digits(index + 1..<index + 3), byte(index + 3, ":"), let om = digits(index + 4..<index + 6), oh < 24, om < 60 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1_000 + Int64(fractionMs)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
