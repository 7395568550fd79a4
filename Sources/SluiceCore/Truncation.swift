/// Cutting untrusted text to a size that fits a Kafka record, an audit detail or a log line.
public enum Truncation {
    /// `text` itself when it fits in `maxBytes`; otherwise its start and a marker naming the
    /// original length, `maxBytes` long at most (the marker alone when `maxBytes` is smaller).
    /// Cutting an already cut text changes nothing.
    public static func prefix(_ text: String, maxBytes: Int) -> String {
        let length = text.utf8.count
        guard length > maxBytes else { return text }
        let marker = "… [truncated, \(length) bytes in all]"
        return cut(text, maxBytes: max(0, maxBytes - marker.utf8.count)) + marker
    }

    /// The longest start of `text` of at most `maxBytes` UTF-8 bytes that does not split a
    /// Unicode scalar.
    public static func cut(_ text: String, maxBytes: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > maxBytes else { return text }
        var end = utf8.index(utf8.startIndex, offsetBy: max(0, maxBytes))
        // A continuation byte (10xxxxxx) at the cut means a scalar starts before it.
        while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(decoding: utf8[..<end], as: UTF8.self)
    }
}
