/// ASCII byte classes for the scanners. Every non-ASCII byte is "other": the detectors look for
/// ASCII-shaped values, and Japanese, accented or emoji text around them acts as a boundary.
enum Bytes {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b &- 0x41 < 26 }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b &- 0x61 < 26 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    /// Letters, digits and `_`: the bytes a value must not be glued to.
    @inline(__always) static func isWord(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
    /// base64url plus `+` and `/`: the alphabet of JWT segments and key material.
    @inline(__always) static func isBase64URL(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x2D || b == 0x5F }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { isUpper(b) ? b | 0x20 : b }

    static let plus: UInt8 = 0x2B, minus: UInt8 = 0x2D, dot: UInt8 = 0x2E, slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A, at: UInt8 = 0x40, space: UInt8 = 0x20, openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29, underscore: UInt8 = 0x5F
}

/// A read-only view of a text's UTF-8 with the helpers the detectors share.
struct ByteText {
    let p: UnsafeBufferPointer<UInt8>
    var count: Int { p.count }

    @inline(__always) subscript(_ i: Int) -> UInt8 { p[i] }
    /// The byte at `i`, or 0 past either end (0 is in no class, so it reads as a boundary).
    @inline(__always) func at(_ i: Int) -> UInt8 { i >= 0 && i < p.count ? p[i] : 0 }

    /// Whether the bytes at `i` are `literal`, compared exactly.
    func hasPrefix(_ literal: StaticString, at i: Int) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard i + n <= p.count else { return false }
        let l = literal.utf8Start
        for k in 0..<n where p[i + k] != l[k] { return false }
        return true
    }

    /// Whether `literal` (lower-case ASCII) is at `i`, ignoring ASCII case.
    func hasPrefixIgnoringCase(_ literal: [UInt8], at i: Int) -> Bool {
        guard i >= 0, i + literal.count <= p.count else { return false }
        for k in 0..<literal.count where Bytes.lower(p[i + k]) != literal[k] { return false }
        return true
    }

    /// The end of the run of bytes from `i` that satisfy `belongs`, at most `limit` long.
    @inline(__always) func run(from i: Int, limit: Int = .max, _ belongs: (UInt8) -> Bool) -> Int {
        var j = i
        let stop = limit == .max ? p.count : min(p.count, i + limit)
        while j < stop && belongs(p[j]) { j += 1 }
        return j
    }
}
