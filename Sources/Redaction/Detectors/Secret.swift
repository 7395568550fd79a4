extension ByteText {
    /// A credential starting at `i`; returns its end.
    ///
    /// Each format is recognised by its fixed prefix and the length and alphabet of what
    /// follows: PEM private key blocks, JWTs, AWS access key ids, GitHub, OpenAI, Anthropic,
    /// Google, Slack and Stripe keys.
    func secret(at i: Int) -> Int? {
        switch self[i] {
        case Bytes.minus:
            return privateKeyBlock(at: i)
        case 0x65:  // e
            return jwt(at: i)
        case 0x41:  // A
            if hasPrefix("AKIA", at: i) || hasPrefix("ASIA", at: i) {
                let end = run(from: i + 4, limit: 17) { Bytes.isUpper($0) || Bytes.isDigit($0) }
                return end - i == 20 && !Bytes.isWord(at(end)) ? end : nil
            }
            if hasPrefix("AIza", at: i) { return token(at: i, prefix: 4, minimum: 35, Bytes.isBase64URL) }
            return nil
        case 0x67:  // g
            if hasPrefix("github_pat_", at: i) { return token(at: i, prefix: 11, minimum: 22) { Bytes.isAlnum($0) || $0 == Bytes.underscore } }
            if hasPrefix("gh", at: i), [0x70, 0x6F, 0x75, 0x73, 0x72].contains(at(i + 2)), at(i + 3) == Bytes.underscore {
                return token(at: i, prefix: 4, minimum: 36, Bytes.isAlnum)
            }
            return nil
        case 0x73, 0x72:  // s, r
            if hasPrefix("sk_live_", at: i) || hasPrefix("rk_live_", at: i) || hasPrefix("sk_test_", at: i) || hasPrefix("rk_test_", at: i) {
                return token(at: i, prefix: 8, minimum: 16, Bytes.isAlnum)
            }
            guard hasPrefix("sk-", at: i) else { return nil }
            if hasPrefix("sk-ant-", at: i) { return token(at: i, prefix: 7, minimum: 20, Bytes.isBase64URL) }
            if hasPrefix("sk-proj-", at: i) { return token(at: i, prefix: 8, minimum: 20, Bytes.isBase64URL) }
            // A bare `sk-` needs letters and digits after it, so that hyphenated words are not keys.
            guard let end = token(at: i, prefix: 3, minimum: 20, Bytes.isBase64URL) else { return nil }
            var letters = false, digits = false
            for k in (i + 3)..<end {
                if Bytes.isDigit(self[k]) { digits = true } else if Bytes.isAlpha(self[k]) { letters = true }
            }
            return letters && digits ? end : nil
        case 0x78:  // x
            guard hasPrefix("xox", at: i), [0x62, 0x61, 0x70, 0x72, 0x73].contains(at(i + 3)), at(i + 4) == Bytes.minus else { return nil }
            return token(at: i, prefix: 5, minimum: 10) { Bytes.isAlnum($0) || $0 == Bytes.minus }
        default:
            return nil
        }
    }

    /// The end of `prefix` bytes plus at least `minimum` bytes of `alphabet`, not glued to more word bytes.
    private func token(at i: Int, prefix: Int, minimum: Int, _ alphabet: (UInt8) -> Bool) -> Int? {
        let end = run(from: i + prefix, limit: 512, alphabet)
        guard end - (i + prefix) >= minimum, !Bytes.isWord(at(end)) else { return nil }
        return end
    }

    /// Three base64url segments joined by dots, the first two starting `eyJ` (a JSON object).
    private func jwt(at i: Int) -> Int? {
        guard hasPrefix("eyJ", at: i) else { return nil }
        let header = run(from: i, limit: 4096, Bytes.isBase64URL)
        guard header - i >= 10, at(header) == Bytes.dot, hasPrefix("eyJ", at: header + 1) else { return nil }
        let payload = run(from: header + 1, limit: 16_384, Bytes.isBase64URL)
        guard payload - header - 1 >= 10, at(payload) == Bytes.dot else { return nil }
        let signature = run(from: payload + 1, limit: 4096, Bytes.isBase64URL)
        guard signature - payload - 1 >= 16, !Bytes.isWord(at(signature)) else { return nil }
        return signature
    }

    /// `-----BEGIN … PRIVATE KEY-----` through its `-----END … PRIVATE KEY-----`; a block with
    /// no end line runs to the end of its base64 body, so a truncated key is still covered.
    private func privateKeyBlock(at i: Int) -> Int? {
        guard hasPrefix("-----BEGIN ", at: i) else { return nil }
        let labelStart = i + 11
        let labelEnd = run(from: labelStart, limit: 64) { Bytes.isUpper($0) || $0 == Bytes.space }
        guard labelEnd - labelStart >= 11, hasPrefix("PRIVATE KEY", at: labelEnd - 11), hasPrefix("-----", at: labelEnd) else { return nil }
        let bodyStart = labelEnd + 5
        var j = bodyStart
        while j < count {
            if self[j] == Bytes.minus && hasPrefix("-----END ", at: j) {
                let close = run(from: j + 9, limit: 64) { Bytes.isUpper($0) || $0 == Bytes.space }
                return hasPrefix("-----", at: close) ? close + 5 : close
            }
            let b = self[j]
            guard Bytes.isAlnum(b) || b == Bytes.plus || b == Bytes.slash || b == 0x3D || b == 0x0A || b == 0x0D || b == Bytes.space
                || b == Bytes.colon || b == Bytes.minus || b == 0x2C
            else { break }
            j += 1
        }
        return j
    }
}
