/// What the digits at a position are.
enum NumberOutcome {
    case match(end: Int, type: PIIType)
    /// Shaped like a card or SSN but failing its check: nothing inside it is a value either.
    case skip(end: Int)
    case none
}

/// The digit groups of a phone-, card- or SSN-shaped run, in stack memory: numbers are common
/// in prose, and a heap allocation per number would dominate the scan.
struct DigitRun {
    static let maxGroups = 12
    static let maxDigits = 24

    var plus = false
    var groupCount = 0
    var digitCount = 0
    var parenthesised = 0
    /// Group lengths, group ends (byte offsets, after a closing parenthesis), and the
    /// separator after each group (0 after a parenthesis with none).
    let lengths: UnsafeMutableBufferPointer<Int>
    let ends: UnsafeMutableBufferPointer<Int>
    let separators: UnsafeMutableBufferPointer<UInt8>
    let digits: UnsafeMutableBufferPointer<UInt8>

    /// Whether the first `count` groups have these lengths (unused trailing ones are 0).
    func shape(_ count: Int, is a: Int, _ b: Int, _ c: Int, _ d: Int = 0) -> Bool {
        count == (d == 0 ? 3 : 4) && lengths[0] == a && lengths[1] == b && lengths[2] == c && (d == 0 || lengths[3] == d)
    }
}

extension ByteText {
    static let phoneWords: [[UInt8]] = [
        "tel", "phone", "call", "mobile", "cell", "fax", "handy", "telefon", "téléphone", "telephone", "portable", "numéro",
        "whatsapp", "sms", "anrufen", "rufnummer", "mobil", "appel", "電話", "携帯", "☎", "📞", "📱",
    ].map { Array($0.utf8) }

    /// A phone number, payment card or US SSN starting at `i` (a digit, `+` or `(`).
    func number(at i: Int) -> NumberOutcome {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * DigitRun.maxGroups) { ints in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: DigitRun.maxGroups + DigitRun.maxDigits) { bytes in
                var run = DigitRun(
                    lengths: UnsafeMutableBufferPointer(rebasing: ints[0..<DigitRun.maxGroups]),
                    ends: UnsafeMutableBufferPointer(rebasing: ints[DigitRun.maxGroups...]),
                    separators: UnsafeMutableBufferPointer(rebasing: bytes[0..<DigitRun.maxGroups]),
                    digits: UnsafeMutableBufferPointer(rebasing: bytes[DigitRun.maxGroups...]))
                guard let tooLong = readDigitRun(at: i, into: &run) else { return .none }
                if tooLong { return .skip(end: run.ends[run.groupCount - 1]) }
                // The whole run first, then shorter runs that end before a space: "555-123-4567 2024".
                var count = run.groupCount
                while count > 0 {
                    if count == run.groupCount || run.separators[count - 1] == Bytes.space {
                        switch classify(run, groups: count, start: i) {
                        case .none: break
                        case let outcome: return outcome
                        }
                    }
                    count -= 1
                }
                return .none
            }
        }
    }

    /// Reads the groups at `i`; nil when there is none, true when the run is longer than any value.
    private func readDigitRun(at i: Int, into r: inout DigitRun) -> Bool? {
        var j = i
        if at(j) == Bytes.plus {
            r.plus = true
            j += 1
        }
        while j < count {
            var open = false
            if self[j] == Bytes.openParen {
                guard Bytes.isDigit(at(j + 1)) else { break }
                open = true
                j += 1
            }
            let start = j
            while j < count, Bytes.isDigit(self[j]) {
                if r.digitCount + (j - start) >= DigitRun.maxDigits {
                    // Longer than any value: pass over all of it.
                    let end = run(from: j, Bytes.isDigit)
                    r.ends[r.groupCount] = end
                    r.groupCount += 1
                    return true
                }
                r.digits[r.digitCount + (j - start)] = self[j]
                j += 1
            }
            guard j > start else { break }
            let length = j - start
            if open {
                // "(2024" is not part of a number shape; keep what came before.
                guard at(j) == Bytes.closeParen else { break }
                j += 1
                r.parenthesised += 1
            }
            r.lengths[r.groupCount] = length
            r.ends[r.groupCount] = j
            r.separators[r.groupCount] = 0
            r.groupCount += 1
            r.digitCount += length
            guard r.groupCount < DigitRun.maxGroups else { return true }
            // Next group: after one separator, or straight after a closing parenthesis.
            let b = at(j)
            if open && Bytes.isDigit(b) { continue }
            if b == Bytes.space || b == Bytes.minus || b == Bytes.dot || b == Bytes.slash {
                let next = at(j + 1)
                if Bytes.isDigit(next) || (next == Bytes.openParen && Bytes.isDigit(at(j + 2))) {
                    r.separators[r.groupCount - 1] = b
                    j += 1
                    continue
                }
            }
            break
        }
        return r.groupCount == 0 ? nil : false
    }

    private func classify(_ r: DigitRun, groups count: Int, start: Int) -> NumberOutcome {
        let end = r.ends[count - 1]
        // Glued to a word, or followed by more digits across ':' (a time): not a value.
        let after = at(end)
        if Bytes.isWord(after) || (after == Bytes.colon && Bytes.isDigit(at(end + 1))) { return .none }
        var digitCount = 0
        var spaces = false, minuses = false, dots = false, others = false
        for k in 0..<count {
            digitCount += r.lengths[k]
            guard k < count - 1 else { continue }
            switch r.separators[k] {
            case Bytes.space: spaces = true
            case Bytes.minus: minuses = true
            case Bytes.dot: dots = true
            default: others = true
            }
        }
        let kinds = (spaces ? 1 : 0) + (minuses ? 1 : 0) + (dots ? 1 : 0) + (others ? 1 : 0)
        let digits = UnsafeBufferPointer(rebasing: r.digits[0..<digitCount])
        let parenthesised = r.parenthesised > 0

        if !r.plus && !parenthesised {
            // US SSN: AAA-GG-SSSS (or spaced).
            if r.shape(count, is: 3, 2, 4) && kinds == 1 && (minuses || spaces) {
                return Self.validSSN(digits) ? .match(end: end, type: .usSSN) : .skip(end: end)
            }
            // Payment card: 13–19 digits, solid or in groups, one kind of separator.
            if (13...19).contains(digitCount), kinds <= 1, !dots, !others, Self.cardShaped(r, count), (0x32...0x36).contains(digits[0]) {
                return Self.luhnValid(digits) ? .match(end: end, type: .creditCard) : .skip(end: end)
            }
        }
        guard !dots || kinds == 1 else { return .none }
        let first = digits[0]
        let second = digitCount > 1 ? digits[1] : 0
        // International: +CC …, 8–15 digits (E.164), or the 00 dialling prefix.
        if r.plus {
            return (8...15).contains(digitCount) && first != 0x30 ? .match(end: end, type: .phone) : .none
        }
        if first == 0x30 && second == 0x30 && (11...15).contains(digitCount) && count >= 2 {
            return .match(end: end, type: .phone)
        }
        // North American: (AAA) BBB-CCCC, AAA-BBB-CCCC, AAA.BBB.CCCC, 1-AAA-BBB-CCCC.
        if (r.shape(count, is: 3, 3, 4) && first >= 0x32) || (r.shape(count, is: 1, 3, 3, 4) && first == 0x31) {
            return .match(end: end, type: .phone)
        }
        // National trunk prefix 0 (UK, DE, FR, JP, …): 9–12 digits in at least two groups.
        if first == 0x30 && second != 0x30 && (9...12).contains(digitCount) && (count >= 2 || parenthesised) {
            return .match(end: end, type: .phone)
        }
        // Anything else phone-sized needs a phone word just before it.
        if (9...12).contains(digitCount) && hasPhoneWord(before: start) {
            return .match(end: end, type: .phone)
        }
        return .none
    }

    /// A phone word (not the end of a longer word: "hotel", "recall") in the 24 bytes before `i`.
    private func hasPhoneWord(before i: Int) -> Bool {
        let from = Swift.max(0, i - 24)
        for word in Self.phoneWords {
            var k = from
            while k + word.count <= i {
                if hasPrefixIgnoringCase(word, at: k) && (k == 0 || !Bytes.isAlpha(self[k - 1])) { return true }
                k += 1
            }
        }
        return false
    }

    /// Groups of 4-4-4 then 1–4s (Visa, Mastercard, Discover…), 4-6-4/5 (Amex, Diners), or solid.
    static func cardShaped(_ r: DigitRun, _ count: Int) -> Bool {
        if count == 1 { return true }
        if r.shape(count, is: 4, 6, 5) || r.shape(count, is: 4, 6, 4) { return true }
        guard count >= 3, count <= 5, r.lengths[0] == 4, r.lengths[1] == 4, r.lengths[2] == 4 else { return false }
        for k in 3..<count where !(1...4).contains(r.lengths[k]) { return false }
        return true
    }

    static func luhnValid(_ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        var sum = 0
        var double = false
        for b in digits.reversed() {
            var d = Int(b - 0x30)
            if double {
                d *= 2
                if d > 9 { d -= 9 }
            }
            sum += d
            double.toggle()
        }
        return sum % 10 == 0
    }

    /// Area 001–899 except 666, group 01–99, serial 0001–9999 (SSA's never-issued ranges excluded).
    static func validSSN(_ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        func value(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(digits[$1] - 0x30) } }
        let area = value(0..<3), group = value(3..<5), serial = value(5..<9)
        return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
    }
}
