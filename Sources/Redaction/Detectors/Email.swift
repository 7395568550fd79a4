extension ByteText {
    /// An e-mail address starting at `i`: a local part of `[A-Za-z0-9._%+-]` (1–64 bytes), `@`,
    /// and a domain of at least two labels whose last is 2+ letters. Returns its end.
    ///
    /// A trailing `.` or `-` belongs to the sentence, not the domain ("write to a@b.de.").
    func email(at i: Int) -> Int? {
        let localEnd = run(from: i, limit: 65) { Bytes.isAlnum($0) || $0 == Bytes.dot || $0 == Bytes.underscore || $0 == 0x25 || $0 == Bytes.plus || $0 == Bytes.minus }
        guard localEnd > i, localEnd - i <= 64, at(localEnd) == Bytes.at, self[localEnd - 1] != Bytes.dot else { return nil }
        var j = localEnd + 1
        var labels = 0
        var lastLabelStart = j
        var end = j
        while j < count {
            let labelStart = j
            guard Bytes.isAlnum(self[j]) else { break }
            j = run(from: j, limit: 63) { Bytes.isAlnum($0) || $0 == Bytes.minus }
            // Trailing hyphens are not part of a label.
            var labelEnd = j
            while labelEnd > labelStart && self[labelEnd - 1] == Bytes.minus { labelEnd -= 1 }
            labels += 1
            lastLabelStart = labelStart
            end = labelEnd
            guard labelEnd == j, at(j) == Bytes.dot, Bytes.isAlnum(at(j + 1)) else { break }
            j += 1
        }
        guard labels >= 2, end - lastLabelStart >= 2 else { return nil }
        for k in lastLabelStart..<end where !Bytes.isAlpha(self[k]) { return nil }
        guard !Bytes.isWord(at(end)) else { return nil }
        return end
    }
}
