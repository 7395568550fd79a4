import SluiceCore
import SluiceHTTP

/// Reads a provider's "try again later" hint: `retry-after-ms` (OpenAI, Azure) or
/// `Retry-After` (RFC 9110 §10.2.3: delay seconds or an HTTP date).
///
/// The headers come from outside and feed `Int` conversions and sleeps, so every form is
/// parsed strictly: a value that is not a plain non-negative number or an HTTP date (`inf`,
/// `nan`, `-5`, `soon`) is ignored, a date in the past means "now", and anything longer than
/// ``ceilingMs`` (`1e19`, a date in the year 9999) is clamped before it becomes an `Int`.
enum RetryAfter {
    /// The longest hint kept: 24 hours. The worker applies its own, shorter cap on top; this one
    /// only keeps absurd values from reaching integer arithmetic.
    static let ceilingMs = 86_400_000

    /// The wait the response asks for, in milliseconds, or nil when it asks for none we can read.
    ///
    /// `retry-after-ms` wins when it is valid; an invalid one falls back to `Retry-After`.
    ///
    /// - Parameter nowMs: The current Unix time, against which an HTTP date is measured.
    static func milliseconds(in response: HTTPClientResponse, nowMs: Int64 = WallClock.system.nowMs()) -> Int? {
        if let value = response.header("retry-after-ms"), let ms = milliseconds(fromNumber: value, unitMs: 1) {
            return ms
        }
        guard let value = response.header("retry-after") else { return nil }
        return milliseconds(fromNumber: value, unitMs: 1_000) ?? milliseconds(fromHTTPDate: value, nowMs: nowMs)
    }

    // MARK: - Numbers

    /// A non-negative decimal number (`7`, `1.5`, `1e3`) times `unitMs`, rounded up and
    /// clamped to ``ceilingMs``; nil for anything else, including signs, `inf` and `nan`.
    static func milliseconds(fromNumber text: String, unitMs: Double) -> Int? {
        let trimmed = text.trimmingSpaces()
        // `Double(_:)` also accepts "inf", "nan", "-1" and hex; only plain decimals get that far.
        guard isPlainDecimal(trimmed), let value = Double(trimmed) else { return nil }
        let ms = value * unitMs  // ≥ 0; +inf when the text overflows a Double ("1e400")
        guard ms < Double(ceilingMs) else { return ceilingMs }
        return Int(ms.rounded(.up))
    }

    /// `digits [. digits] [(e|E) [+|-] digits]`, ASCII only.
    private static func isPlainDecimal(_ text: Substring) -> Bool {
        var bytes = text.utf8[...]
        func digits() -> Bool {
            let count = bytes.prefix(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }).count
            bytes = bytes.dropFirst(count)
            return count > 0
        }
        guard digits() else { return false }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() else { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() else { return false }
        }
        return bytes.isEmpty
    }

    // MARK: - HTTP dates

    /// How long until the HTTP date `text`, 0 when it has passed, at most ``ceilingMs``.
    static func milliseconds(fromHTTPDate text: String, nowMs: Int64) -> Int? {
        guard let seconds = HTTPDate.unixSeconds(text) else { return nil }
        // Both sides lie within year 1...9999, so the difference cannot overflow.
        let now = min(max(nowMs, Wire.timestampRangeMs.lowerBound), Wire.timestampRangeMs.upperBound)
        let delta = seconds * 1_000 - now
        return Int(min(max(delta, 0), Int64(ceilingMs)))
    }
}

// MARK: - Trimming

extension String {
    /// Without leading and trailing spaces and tabs (header values may carry them).
    fileprivate func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
