/// The redaction of one job: numbers masks consistently across all of the job's texts and
/// counts what it found.
///
/// Create one per job and pass every text of the job through ``redact(_:)``: the same e-mail
/// address in the system prompt and in a tool call becomes the same `[EMAIL_1]`.
public struct Redaction: Sendable {
    public let policy: RedactionPolicy
    /// How many values of each type were found (all modes).
    public private(set) var counts: [PIIType: Int] = [:]
    /// Token → original value, for tokenized types only.
    public private(set) var vault: [String: String] = [:]
    private var numbers: [PIIType: [String: Int]] = [:]

    public init(policy: RedactionPolicy) { self.policy = policy }

    /// `text` with every found value masked, dropped or tokenized; `text` itself when nothing was found.
    public mutating func redact(_ text: String) -> String {
        redact(text, matches: policy.scanner.matches(in: text))
    }

    /// `text` with `matches` (from this policy's scanner, for this text) masked, dropped or tokenized.
    public mutating func redact(_ text: String, matches: [PIIMatch]) -> String {
        guard !matches.isEmpty else { return text }
        var output = [UInt8]()
        var text = text
        text.withUTF8 { bytes in
            output.reserveCapacity(bytes.count)
            var position = 0
            for match in matches {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<match.range.lowerBound]))
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[match.range]), as: UTF8.self)
                counts[match.type, default: 0] += 1
                let mode = policy.mode(for: match.type)
                if mode != .drop {
                    let token = label(for: value, type: match.type)
                    if mode == .tokenize { vault[token] = value }
                    output.append(contentsOf: token.utf8)
                }
                position = match.range.upperBound
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position...]))
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `[TYPE_n]`: the number of this value within the job, new values numbered from 1.
    private mutating func label(for value: String, type: PIIType) -> String {
        let key = Self.normalized(value, type: type)
        let number: Int
        if let known = numbers[type]?[key] {
            number = known
        } else {
            number = (numbers[type]?.count ?? 0) + 1
            numbers[type, default: [:]][key] = number
        }
        return "[\(type.rawValue)_\(number)]"
    }

    /// The same value written differently ("+49 30 1234", "+49-30-1234"; upper-case e-mail) is the same value.
    static func normalized(_ value: String, type: PIIType) -> String {
        switch type {
        case .email: return value.lowercased()
        case .phone, .creditCard, .iban, .usSSN: return String(value.unicodeScalars.filter { $0.properties.numericType != nil || ("A"..."Z").contains($0) || $0 == "+" })
        default: return value
        }
    }
}
