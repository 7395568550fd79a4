import Foundation

/// Finds personal data and secrets in text.
///
/// The built-in detectors are hand-written scanners over the text's UTF-8 bytes: one pass,
/// and at each token start (a byte not glued to a letter or digit) only the detectors whose
/// first byte fits are tried. `NSRegularExpression` is slow on Linux and is used only for a
/// tenant's own patterns.
public struct PIIScanner: Sendable {
    /// The built-in detectors that report; the others still consume what they recognise, so
    /// that a disabled IBAN detector does not let its digits be read as a phone number.
    public var enabled: Set<PIIType>
    let customPatterns: [CustomPattern]
    let denyList: DenyList

    /// - Parameters:
    ///   - enabled: the built-in types to report. Default: all.
    ///   - customPatterns: a tenant's own patterns, each reported under its name.
    ///   - denyList: literal terms, matched ignoring ASCII case, reported as `DENY_LIST`.
    public init(enabled: Set<PIIType> = Set(PIIType.builtIn), customPatterns: [CustomPattern] = [], denyList: [String] = []) {
        self.enabled = enabled
        self.customPatterns = customPatterns
        self.denyList = DenyList(terms: denyList)
    }

    /// Every value found in `text`, in order, not overlapping, as UTF-8 byte ranges.
    public func matches(in text: String) -> [PIIMatch] {
        var found: [PIIMatch] = []
        var text = text
        text.withUTF8 { buffer in
            scanBuiltIn(ByteText(p: buffer), into: &found)
            denyList.scan(ByteText(p: buffer), into: &found)
        }
        for pattern in customPatterns { pattern.scan(text, into: &found) }
        guard !denyList.isEmpty || !customPatterns.isEmpty else { return found }
        return Self.resolvingOverlaps(found)
    }

    /// Earlier first; of two starting together, the longer; anything overlapping a kept match goes.
    static func resolvingOverlaps(_ matches: [PIIMatch]) -> [PIIMatch] {
        let sorted = matches.sorted { a, b in
            a.range.lowerBound != b.range.lowerBound ? a.range.lowerBound < b.range.lowerBound : a.range.count > b.range.count
        }
        var kept: [PIIMatch] = []
        kept.reserveCapacity(sorted.count)
        for match in sorted where kept.last.map({ $0.range.upperBound <= match.range.lowerBound }) ?? true {
            kept.append(match)
        }
        return kept
    }

    // MARK: - Built-in detectors

    /// Where the next `@` and `:` are: an e-mail needs an `@` within 64 bytes of its start, an
    /// IPv6 address a `:` within 5, so most words skip those detectors after one comparison.
    private struct Lookahead {
        var at = -1
        var colon = -1

        static func next(_ byte: UInt8, after i: Int, cached: inout Int, in t: ByteText) -> Int {
            if cached < i {
                let rest = t.count - i
                if let base = t.p.baseAddress, rest > 0, let hit = memchr(base + i, Int32(byte), rest) {
                    cached = i + (UnsafeRawPointer(hit) - UnsafeRawPointer(base + i))
                } else {
                    cached = Int.max
                }
            }
            return cached
        }

        mutating func email(_ i: Int, _ t: ByteText) -> Bool { Self.next(Bytes.at, after: i, cached: &at, in: t) - i <= 64 }
        mutating func ipv6(_ i: Int, _ t: ByteText) -> Bool { Self.next(Bytes.colon, after: i, cached: &colon, in: t) - i <= 5 }
    }

    private func scanBuiltIn(_ t: ByteText, into found: inout [PIIMatch]) {
        var i = 0
        let n = t.count
        var ahead = Lookahead()
        while i < n {
            let b = t[i]
            // Bytes that start no value, and bytes glued to a word, are passed over.
            guard Bytes.isAlnum(b) || b == Bytes.plus || b == Bytes.openParen || b == Bytes.minus || b == Bytes.colon,
                i == 0 || !Bytes.isWord(t[i - 1])
            else {
                i += 1
                continue
            }
            if let hit = detect(t, at: i, &ahead) {
                if enabled.contains(hit.type) { found.append(PIIMatch(range: i..<hit.end, type: hit.type)) }
                i = max(hit.end, i + 1)
                continue
            }
            // Nothing starts inside the rest of this word either.
            i = Bytes.isWord(b) ? t.run(from: i + 1, Bytes.isWord) : i + 1
        }
    }

    /// The value starting at `i`, if any; a version number or checksum failure comes back
    /// under an internal type that is never reported, so that its bytes are passed over.
    private func detect(_ t: ByteText, at i: Int, _ ahead: inout Lookahead) -> (end: Int, type: PIIType)? {
        let b = t[i]
        if Bytes.isDigit(b) {
            guard numberMayStart(t, at: i) else { return nil }
            if let v4 = t.ipv4(at: i) { return v4.isVersion ? (v4.end, .versionNumber) : (v4.end, .ipAddress) }
            if ahead.ipv6(i, t), let end = t.ipv6(at: i) { return (end, .ipAddress) }
            if ahead.email(i, t), let end = t.email(at: i) { return (end, .email) }
            switch t.number(at: i) {
            case .match(let end, let type): return (end, type)
            case .skip(let end): return (end, .checksumFailure)
            case .none: return nil
            }
        }
        if Bytes.isAlpha(b) {
            if let end = t.secret(at: i) { return (end, .secret) }
            if Bytes.isUpper(b), let iban = t.iban(at: i) { return (iban.end, iban.valid ? .iban : .checksumFailure) }
            if ahead.email(i, t), let end = t.email(at: i) { return (end, .email) }
            if Bytes.isHex(b), ahead.ipv6(i, t), let end = t.ipv6(at: i) { return (end, .ipAddress) }
            return nil
        }
        switch b {
        case Bytes.plus, Bytes.openParen:
            guard Bytes.isDigit(t.at(i + 1)), numberMayStart(t, at: i) else { return nil }
            switch t.number(at: i) {
            case .match(let end, let type): return (end, type)
            case .skip(let end): return (end, .checksumFailure)
            case .none: return nil
            }
        case Bytes.minus:
            return t.secret(at: i).map { ($0, .secret) }
        case Bytes.colon:
            guard t.at(i + 1) == Bytes.colon else { return nil }
            return t.ipv6(at: i).map { ($0, .ipAddress) }
        default:
            return nil
        }
    }

    /// A number continues what is before it across `.`, `-`, `/`, `:` or `,` after a letter or
    /// digit (an OID's tail, "ORD-2024…", a time's minutes): then it is not a value's start.
    private func numberMayStart(_ t: ByteText, at i: Int) -> Bool {
        guard i > 0 else { return true }
        let prev = t[i - 1]
        if prev == Bytes.dot || prev == Bytes.minus || prev == Bytes.slash || prev == Bytes.colon || prev == 0x2C {
            return !Bytes.isAlnum(t.at(i - 2))
        }
        return true
    }
}

extension PIIType {
    /// Recognised and passed over, never reported: a version number shaped like an address, a
    /// card- or SSN-shaped number failing its check.
    static let versionNumber = PIIType(rawValue: "_VERSION")
    static let checksumFailure = PIIType(rawValue: "_CHECKSUM_FAILURE")
}

// MARK: - Tenant patterns

/// A tenant's own pattern: a regular expression reported under its name.
public struct CustomPattern: @unchecked Sendable {
    // @unchecked: NSRegularExpression is immutable once built and documented as thread-safe.
    public let name: PIIType
    let expression: NSRegularExpression

    /// - Throws: ``RedactionError`` naming the pattern when it does not compile.
    public init(name: String, pattern: String) throws(RedactionError) {
        do {
            expression = try NSRegularExpression(pattern: pattern)
        } catch {
            throw RedactionError("custom pattern '\(name)' is not a valid regular expression: \(error.localizedDescription)")
        }
        self.name = PIIType(rawValue: name)
    }

    func scan(_ text: String, into found: inout [PIIMatch]) {
        let utf16 = text.utf16
        for result in expression.matches(in: text, range: NSRange(location: 0, length: utf16.count)) where result.range.length > 0 {
            guard let range = Range(result.range, in: text) else { continue }
            let start = text.utf8.distance(from: text.startIndex, to: range.lowerBound)
            let end = start + text.utf8.distance(from: range.lowerBound, to: range.upperBound)
            found.append(PIIMatch(range: start..<end, type: name))
        }
    }
}

/// Literal terms, matched ignoring ASCII case, as whole words where they begin or end with one.
struct DenyList: Sendable {
    let terms: [[UInt8]]
    var isEmpty: Bool { terms.isEmpty }

    init(terms: [String]) {
        self.terms = terms.filter { !$0.isEmpty }.map { Array($0.utf8).map(Bytes.lower) }
    }

    func scan(_ t: ByteText, into found: inout [PIIMatch]) {
        for term in terms {
            let first = term[0]
            var i = 0
            while i + term.count <= t.count {
                if Bytes.lower(t[i]) == first, t.hasPrefixIgnoringCase(term, at: i),
                    !(Bytes.isWord(first) && i > 0 && Bytes.isWord(t[i - 1])),
                    !(Bytes.isWord(term[term.count - 1]) && Bytes.isWord(t.at(i + term.count)))
                {
                    found.append(PIIMatch(range: i..<(i + term.count), type: .denyList))
                    i += term.count
                } else {
                    i += 1
                }
            }
        }
    }
}

/// A redaction setting that cannot be used, in one sentence naming it.
public struct RedactionError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
