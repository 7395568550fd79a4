/// Heuristic flags for prompt-injection attempts: phrases that try to override the system
/// prompt or switch the model into a "jailbroken" role.
///
/// Heuristics, not a classifier: they catch the common copy-pasted attacks cheaply and say
/// which one; a tenant decides whether a flag only marks the job or blocks it.
public enum InjectionDetector {
    /// A flag's name, as recorded on the job and in audit.
    public struct Flag: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public var description: String { rawValue }
        public static let ignorePreviousInstructions = Flag(rawValue: "ignore_previous_instructions")
        public static let disregardSystemPrompt = Flag(rawValue: "disregard_system_prompt")
        public static let revealSystemPrompt = Flag(rawValue: "reveal_system_prompt")
        public static let rolePlayJailbreak = Flag(rawValue: "role_play_jailbreak")
        public static let youAreNow = Flag(rawValue: "you_are_now")
    }

    /// Phrases as alternatives per word position; the text is compared lower-cased with runs of
    /// whitespace and punctuation between words read as one space.
    private static let rules: [(Flag, [[String]])] = [
        (.ignorePreviousInstructions, [["ignore", "forget", "skip", "override", "bypass"], ["all", "any", "the", "your", "every", ""],
            ["previous", "prior", "above", "earlier", "preceding", "initial", "original", "former", ""],
            ["instructions", "instruction", "prompts", "prompt", "rules", "directions", "guidelines", "directives", "commands"]]),
        (.ignorePreviousInstructions, [["ignoriere", "vergiss"], ["alle", "die", ""], ["vorherigen", "bisherigen", "obigen", ""], ["anweisungen", "instruktionen", "regeln"]]),
        (.ignorePreviousInstructions, [["ignore", "oublie", "oubliez", "ignorez"], ["toutes", "les", "tes", "vos", ""], ["les", ""], ["instructions", "consignes", "règles"]]),
        (.disregardSystemPrompt, [["disregard", "ignore", "forget", "override", "bypass"], ["the", "your", "this", "any", "all", ""],
            ["system", "developer", "safety", "content"], ["prompt", "message", "instructions", "policy", "policies", "rules", "filters", "guidelines"]]),
        (.disregardSystemPrompt, [["disregard"], ["all", "any", "the", "your", ""], ["previous", "prior", "above", "earlier", ""], ["instructions", "rules", "guidelines", "prompts"]]),
        (.revealSystemPrompt, [["reveal", "print", "show", "repeat", "output", "leak", "display"], ["your", "the", "me", ""], ["your", "the", "full", "hidden", "original", ""],
            ["system", "initial", "hidden"], ["prompt", "instructions", "message"]]),
        (.rolePlayJailbreak, [["do"], ["anything"], ["now"]]),
        (.rolePlayJailbreak, [["dan", "developer", "jailbreak", "jailbroken", "god"], ["mode"]]),
        (.rolePlayJailbreak, [["jailbreak", "jailbroken"]]),
        (.rolePlayJailbreak, [["pretend", "act", "imagine"], ["you", "as", "that", ""], ["you", "an", "are", "have", ""], ["have", "are", "an", "no", ""],
            ["no", "unrestricted", "unfiltered", "uncensored", "evil"], ["restrictions", "rules", "limits", "filters", "ai", "assistant", "model", "guidelines", ""]]),
        (.youAreNow, [["you"], ["are"], ["now"], ["dan", "a", "an", "in", "free", "unrestricted", "unfiltered", "uncensored", "jailbroken", "evil", "no", "my"]]),
        (.youAreNow, [["from"], ["now"], ["on"], ["you"], ["are", "will"]]),
    ]

    /// Words are compared by a 64-bit FNV-1a hash of their lower-cased bytes: one allocation
    /// per text instead of one per word; a collision could at worst raise a heuristic flag.
    private static let compiled: [(Flag, [[UInt64]])] = rules.map { flag, words in
        (flag, words.map { $0.map { Self.hash(Array($0.utf8)) } })
    }
    private static let firstWords: Set<UInt64> = Set(compiled.flatMap { $0.1[0] })
    /// One bit per first word (hash mod 64): most words are ruled out without hashing into the set.
    private static let firstWordBits: UInt64 = firstWords.reduce(0) { $0 | 1 << ($1 & 63) }
    private static let empty = Self.hash([])

    /// The flags raised by `text`, each once, in rule order.
    public static func flags(in text: String) -> [Flag] {
        let words = Self.words(text)
        guard !words.isEmpty else { return [] }
        var raised: [Flag] = []
        let bits = firstWordBits
        for start in words.indices where bits & (1 << (words[start] & 63)) != 0 && firstWords.contains(words[start]) {
            for (flag, pattern) in compiled where !raised.contains(flag) && matches(pattern, words, from: start) {
                raised.append(flag)
            }
        }
        return raised
    }

    /// Whether `pattern` (alternatives per position, "" meaning the position may be skipped) matches at `start`.
    private static func matches(_ pattern: [[UInt64]], _ words: [UInt64], from start: Int) -> Bool {
        func match(_ p: Int, _ w: Int) -> Bool {
            if p == pattern.count { return true }
            let options = pattern[p]
            if w < words.count && options.contains(words[w]) && match(p + 1, w + 1) { return true }
            return options.contains(empty) && match(p + 1, w)
        }
        return match(0, start)
    }

    private static func hash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The hashes of the text's words, lower-cased (ASCII), split at every byte that is not a
    /// letter, digit or part of a non-ASCII character.
    private static func words(_ text: String) -> [UInt64] {
        var words: [UInt64] = []
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var inWord = false
        var text = text
        text.withUTF8 { bytes in
            words.reserveCapacity(bytes.count / 5)
            for b in bytes {
                if Bytes.isAlnum(b) || b >= 0x80 {
                    h = (h ^ UInt64(Bytes.lower(b))) &* 0x100_0000_01b3
                    inWord = true
                } else if inWord {
                    words.append(h)
                    h = 0xcbf2_9ce4_8422_2325
                    inWord = false
                }
            }
        }
        if inWord { words.append(h) }
        return words
    }
}
