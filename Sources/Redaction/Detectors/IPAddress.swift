extension ByteText {
    /// Words that make a following dotted quad a version number or an OID rather than an address.
    ///
    /// The rule (documented in the README): an IPv4-shaped value is an address unless it is
    /// glued to a letter (`v1.2.3.4`, never a token start) or the word before it, across spaces
    /// and a colon, is one of these. Longer dotted numbers never match (a fifth component
    /// follows); a four-part OID (`2.5.4.3`) needs its `OID` label to be told apart.
    static let versionWords: [[UInt8]] = [
        "version", "versions", "ver", "ver.", "v", "release", "build", "firmware", "fw", "sdk", "app", "update", "patch",
        "rev", "revision", "versión", "versione", "stand", "oid", "バージョン", "版",
    ].map { Array($0.utf8) }

    /// A dotted-quad IPv4 address (each part 0–255, optionally `/0`–`/32`) starting at `i`.
    ///
    /// - Returns: `.some(end)` for an address; `.none` when the shape does not fit; the
    ///   shape's end with `isVersion` when it fits but is a version number.
    func ipv4(at i: Int) -> (end: Int, isVersion: Bool)? {
        var j = i
        for part in 0..<4 {
            let start = j
            var value = 0
            while j < count, j - start < 3, Bytes.isDigit(self[j]) {
                value = value * 10 + Int(self[j] - 0x30)
                j += 1
            }
            guard j > start, value <= 255, !Bytes.isDigit(at(j)) else { return nil }
            if part < 3 {
                guard at(j) == Bytes.dot, Bytes.isDigit(at(j + 1)) else { return nil }
                j += 1
            }
        }
        // A fifth component (an OID, a longer version) or a glued word: not an address.
        guard !Bytes.isWord(at(j)), !(at(j) == Bytes.dot && Bytes.isDigit(at(j + 1))) else { return nil }
        if at(j) == Bytes.slash, Bytes.isDigit(at(j + 1)) {
            let end = run(from: j + 1, limit: 3, Bytes.isDigit)
            if end - j - 1 <= 2, let bits = Int(decimal: j + 1..<end, in: self), bits <= 32, !Bytes.isWord(at(end)) { j = end }
        }
        return (j, precededByVersionWord(i))
    }

    /// Whether a version or OID word ends just before `i`, across up to 16 bytes of spaces,
    /// punctuation, symbols and emoji (`OID — 2.5.4.3`, `version「1.2.3.4」`), but not across letters.
    private func precededByVersionWord(_ i: Int) -> Bool {
        var j = i
        while j > 0 && i - j < 16 {
            let b = self[j - 1]
            if b < 0x80 {
                guard !Bytes.isAlnum(b) else { break }
                j -= 1
                continue
            }
            // A non-ASCII scalar: find its first byte, and skip it unless it is a letter.
            var start = j - 1
            while start > 0 && self[start] & 0xC0 == 0x80 { start -= 1 }
            var decoder = UTF8()
            var bytes = UnsafeBufferPointer(rebasing: p[start..<j]).makeIterator()
            guard case .scalarValue(let scalar) = decoder.decode(&bytes), !scalar.properties.isAlphabetic else { break }
            j = start
        }
        for word in Self.versionWords where j >= word.count && hasPrefixIgnoringCase(word, at: j - word.count) {
            // The whole word, not the end of a longer one ("server 10.0.0.1" is an address).
            let before = j - word.count - 1
            if before < 0 || !Bytes.isWord(self[before]) || word[0] >= 0x80 { return true }
        }
        return false
    }

    /// An IPv6 address, full (8 groups) or compressed (`::`), starting at `i`; an embedded
    /// IPv4 tail (`::ffff:192.0.2.1`) counts as two groups.
    func ipv6(at i: Int) -> Int? {
        var j = i
        var groups = 0
        var compressed = false
        var sawDigit = false
        var end = i
        if hasPrefix("::", at: j) {
            compressed = true
            j += 2
            end = j
        }
        while j < count {
            let groupStart = j
            let hexEnd = run(from: j, limit: 5, Bytes.isHex)
            let length = hexEnd - groupStart
            guard length > 0 else { break }
            if at(hexEnd) == Bytes.dot, let v4 = ipv4(at: groupStart) {
                groups += 2
                sawDigit = true
                end = v4.end
                break
            }
            guard length <= 4 else { return nil }
            for k in groupStart..<hexEnd where Bytes.isDigit(self[k]) { sawDigit = true }
            groups += 1
            j = hexEnd
            end = j
            guard at(j) == Bytes.colon else { break }
            if at(j + 1) == Bytes.colon {
                guard !compressed else { return nil }
                compressed = true
                j += 2
                end = j
            } else if Bytes.isHex(at(j + 1)) {
                j += 1
            } else {
                break
            }
        }
        guard sawDigit, groups <= 8, compressed ? groups <= 7 && (groups >= 2 || hasPrefix("::", at: i)) : groups == 8 else { return nil }
        guard !Bytes.isWord(at(end)), at(end) != Bytes.colon || end > i && self[end - 1] == Bytes.colon else { return nil }
        return end
    }
}

extension Int {
    /// The decimal number of the digit bytes in `range` (at most 18 of them).
    init?(decimal range: Range<Int>, in text: ByteText) {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for k in range {
            guard Bytes.isDigit(text[k]) else { return nil }
            value = value * 10 + Int(text[k] - 0x30)
        }
        self = value
    }
}
