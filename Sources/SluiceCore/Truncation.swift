/// Cutting untrusted text to a size that fits a Kafka record or a log line.
public enum Truncation {
    /// The marker appended to text that was cut.
    public static let marker = "…[truncated]"

    /// `text` if its UTF-8 form has at most `maxBytes` bytes; otherwise its longest prefix of
    /// whole scalars that fits together with `marker`.
    public static func prefix(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        let budget = max(0, maxBytes - marker.utf8.count)
        var used = 0
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let size = UTF8.width(scalar)
            guard used + size <= budget else { break }
            used += size
            scalars.append(scalar)
        }
        return String(scalars) + marker
    }
}
