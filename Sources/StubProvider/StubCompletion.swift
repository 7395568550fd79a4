/// The stub's "model": a deterministic extractive summary and a deterministic token count.
///
/// Deterministic so that tests and benchmarks can predict every answer, and cheap so that the
/// stub never becomes the bottleneck it is meant to measure around.
public enum StubCompletion {
    /// The first sentence of `text`: everything up to and including the first `.`, `!` or `?`
    /// that is followed by whitespace or ends the text; the whole trimmed text if there is none.
    ///
    /// "3.14 is pi. Next." gives "3.14 is pi." — a period inside a number ends nothing.
    public static func summary(of text: String) -> String {
        let trimmed = trimmed(text)
        var index = trimmed.startIndex
        while index < trimmed.endIndex {
            let next = trimmed.index(after: index)
            if ".!?".contains(trimmed[index]) && (next == trimmed.endIndex || trimmed[next].isWhitespace) {
                return String(trimmed[..<next])
            }
            index = next
        }
        return String(trimmed)
    }

    /// Tokens in `text`: one per run of letters and digits, plus one per other non-space
    /// character. Close enough to a real tokenizer's order of magnitude for rate-limit (TPM)
    /// accounting, and identical on every platform.
    public static func tokenCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for character in text {
            if character.isLetter || character.isNumber {
                if !inWord { count += 1 }
                inWord = true
            } else {
                inWord = false
                if !character.isWhitespace { count += 1 }
            }
        }
        return count
    }

    // MARK: - Helpers

    private static func trimmed(_ text: String) -> Substring {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return text[first...last]
    }
}
