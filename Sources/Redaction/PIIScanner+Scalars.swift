extension PIIScanner {
    /// A found value in Unicode scalar offsets (half-open), as `sluice redact` reports it.
    public struct ScalarSpan: Sendable, Equatable, Hashable {
        public var start: Int
        public var end: Int
        public var type: PIIType
    }

    /// ``matches(in:)`` with offsets counted in Unicode scalars (`unicodeScalars`), not bytes.
    public func scalarSpans(in text: String) -> [ScalarSpan] {
        Self.scalarSpans(of: matches(in: text), in: text)
    }

    /// Byte ranges to scalar ranges in one pass: a scalar starts at every byte that is not a
    /// UTF-8 continuation byte (10xxxxxx).
    public static func scalarSpans(of matches: [PIIMatch], in text: String) -> [ScalarSpan] {
        guard !matches.isEmpty else { return [] }
        var spans: [ScalarSpan] = []
        spans.reserveCapacity(matches.count)
        var scalars = 0
        var byte = 0
        var next = 0
        var start = 0
        var wantStart = true
        for b in text.utf8 {
            while next < matches.count {
                let target = wantStart ? matches[next].range.lowerBound : matches[next].range.upperBound
                guard target == byte else { break }
                if wantStart {
                    start = scalars
                    wantStart = false
                } else {
                    spans.append(ScalarSpan(start: start, end: scalars, type: matches[next].type))
                    next += 1
                    wantStart = true
                }
            }
            if b & 0xC0 != 0x80 { scalars += 1 }
            byte += 1
        }
        while next < matches.count {
            if wantStart {
                start = scalars
                wantStart = false
            } else {
                spans.append(ScalarSpan(start: start, end: scalars, type: matches[next].type))
                next += 1
                wantStart = true
            }
        }
        return spans
    }
}
