import Redaction

/// A seeded generator of labelled text: values of every detector's type embedded in English,
/// German, French and Japanese prose, glued to punctuation, no-break spaces, emoji and line
/// breaks, among hard negatives that look like values but are not (order numbers, versions,
/// OIDs, timestamps, card numbers failing Luhn, IBANs failing mod-97, invalid SSNs).
///
/// Spans are half-open offsets in Unicode scalars, as `sluice redact` reports them.
struct LabelledCorpus {
    struct Span: Equatable, Hashable {
        var start: Int
        var end: Int
        /// The type, or nil for a hard negative that must be left alone.
        var type: PIIType?
    }

    struct Document {
        var text: String
        var spans: [Span]
    }

    private var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func documents(_ count: Int) -> [Document] { (0..<count).map { _ in document() } }

    // MARK: - Documents

    enum Language: CaseIterable { case en, de, fr, ja }

    mutating func document() -> Document {
        let language = Language.allCases[rng.below(4)]
        var text = ""
        var scalars = 0
        var spans: [Span] = []
        func append(_ s: String) {
            text += s
            scalars += s.unicodeScalars.count
        }
        for _ in 0..<(3 + rng.below(5)) {
            append(pick(Self.fillers[language]!))
            append(" ")
            let negative = rng.below(3) == 0
            let leadIn: String, value: String, type: PIIType?
            if negative {
                (leadIn, value, type) = hardNegative(language)
            } else {
                let p = positive(language)
                (leadIn, value, type) = (p.0, p.1, p.2)
            }
            append(leadIn)
            append(pick(Self.before))
            let start = scalars
            append(value)
            spans.append(Span(start: start, end: scalars, type: type))
            append(pick(Self.after))
            append(rng.below(4) == 0 ? "\n" : " ")
        }
        return Document(text: text, spans: spans)
    }

    static let before = [" ", " ", "\u{00A0}", ": ", ":\u{00A0}", " (", " 👉 ", " «\u{00A0}", "「", "\n", " <", " \"", " — "]
    static let after = [".", ",", " ", ")", "!", "。", "」", "\n", " 🙂", "\u{00A0}»", ";", "?", "\"", " €", "…"]

    static let fillers: [Language: [String]] = [
        .en: [
            "Please summarise the customer's complaint below.", "The invoice was paid last Tuesday.",
            "Can you draft a polite reply?", "Here are the details we have on file.", "The user wrote in again today.",
        ],
        .de: [
            "Bitte fassen Sie die Beschwerde zusammen.", "Die Rechnung über 1.299,00 € wurde bezahlt.",
            "Könnten Sie eine höfliche Antwort schreiben?", "Hier sind die Angaben für Herrn Müller.", "Grüße aus Köln, schöne Woche!",
        ],
        .fr: [
            "Veuillez résumer la réclamation du client.", "La facture de 1 299,00 € a été réglée.",
            "Pouvez-vous rédiger une réponse polie ?", "Voici les coordonnées de Mme Dupré.", "Merci d'avance, très cordialement.",
        ],
        .ja: [
            "以下のお問い合わせを要約してください。", "請求書は先週支払われました。", "丁寧な返信を作成してください。",
            "こちらが登録情報です。", "よろしくお願いいたします。",
        ],
    ]

    // MARK: - Positives

    mutating func positive(_ language: Language) -> (String, String, PIIType) {
        switch rng.below(7) {
        case 0: return (leadIn(language, ["Write to", "Schreiben Sie an", "Écrivez à", "メール"]), email(), .email)
        case 1: return (leadIn(language, ["Reach me on", "Erreichbar unter", "Joignable au", "電話番号は"]), phone(), .phone)
        case 2: return (leadIn(language, ["Card", "Kreditkarte", "Carte bancaire", "カード番号"]), card(valid: true), .creditCard)
        case 3: return (leadIn(language, ["IBAN", "IBAN", "IBAN", "口座 IBAN"]), iban(valid: true), .iban)
        case 4: return (leadIn(language, ["SSN", "US-SSN", "numéro SSN", "SSN"]), ssn(valid: true), .usSSN)
        case 5: return (leadIn(language, ["connect to server", "Server unter", "serveur à l'adresse", "サーバー"]), ip(), .ipAddress)
        default: return (leadIn(language, ["token", "Schlüssel", "clé", "キー"]), secret(), .secret)
        }
    }

    private mutating func leadIn(_ language: Language, _ options: [String]) -> String {
        switch language {
        case .en: options[0]
        case .de: options[1]
        case .fr: options[2]
        case .ja: options[3]
        }
    }

    mutating func email() -> String {
        let first = pick(["anna", "jean.luc", "m.mueller", "yuki", "obrien", "j_smith", "Ana.Lopez", "info"])
        let tag = rng.below(3) == 0 ? "+\(pick(["news", "work", "x"]))" : ""
        let number = rng.below(2) == 0 ? "\(rng.below(100))" : ""
        let domain = pick(["example.com", "mail.example.de", "exemple.fr", "example.co.jp", "corp-mail.example.org", "EXAMPLE.NET"])
        return "\(first)\(number)\(tag)@\(domain)"
    }

    mutating func phone() -> String {
        func d(_ n: Int) -> String { (0..<n).map { _ in String(rng.below(10)) }.joined() }
        let area = "\(2 + rng.below(8))\(d(2))"
        switch rng.below(18) {
        case 0: return "(\(area)) \(d(3))-\(d(4))"
        case 1: return "\(area)-\(d(3))-\(d(4))"
        case 2: return "\(area).\(d(3)).\(d(4))"
        case 3: return "+1 \(area) \(d(3)) \(d(4))"
        case 4: return "1-\(area)-\(d(3))-\(d(4))"
        case 5: return "+44 20 \(d(4)) \(d(4))"
        case 6: return "020 \(d(4)) \(d(4))"
        case 7: return "07\(d(3)) \(d(6))"
        case 8: return "+49 30 \(d(8))"
        case 9: return "030 \(d(8))"
        case 10: return "01\(5 + rng.below(3))\(d(1)) \(d(8))"
        case 11: return "+49 (0)\(d(2)) \(d(7))"
        case 12: return "0\(2 + rng.below(7))\(d(1))/\(d(7))"
        case 13: return "0\(1 + rng.below(7)) \(d(2)) \(d(2)) \(d(2)) \(d(2))"
        case 14: return "+33 \(1 + rng.below(7)) \(d(2)) \(d(2)) \(d(2)) \(d(2))"
        case 15: return "0\(1 + rng.below(7)).\(d(2)).\(d(2)).\(d(2)).\(d(2))"
        case 16: return "0\(3 + rng.below(7))-\(d(4))-\(d(4))"
        default: return "+81 \(pick(["3", "90", "80"]))-\(d(4))-\(d(4))"
        }
    }

    mutating func card(valid: Bool) -> String {
        let (prefix, length) = pick([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("4", 13)])
        var digits = prefix.map { Int(String($0))! }
        while digits.count < length - 1 { digits.append(rng.below(10)) }
        let check = luhnCheckDigit(digits)
        digits.append(valid ? check : (check + 1 + rng.below(9)) % 10)
        let s = digits.map(String.init).joined()
        let chars = Array(s)
        let separator = pick([" ", "-", ""])
        guard !separator.isEmpty else { return s }
        let groups = length == 15 ? [4, 6, 5] : (length == 13 ? [4, 4, 4, 1] : [4, 4, 4, 4])
        var out: [String] = []
        var k = 0
        for g in groups {
            out.append(String(chars[k..<(k + g)]))
            k += g
        }
        return out.joined(separator: separator)
    }

    mutating func iban(valid: Bool) -> String {
        func d(_ n: Int) -> String { (0..<n).map { _ in String(rng.below(10)) }.joined() }
        func letters(_ n: Int) -> String { String((0..<n).map { _ in Character(UnicodeScalar(UInt8(65 + rng.below(26)))) }) }
        let country = pick(["DE", "FR", "GB", "ES", "IT", "NL", "CH", "AT", "BE"])
        let body: String
        switch country {
        case "DE": body = d(18)
        case "FR": body = d(23)
        case "GB": body = letters(4) + d(14)
        case "ES": body = d(20)
        case "IT": body = letters(1) + d(22)
        case "NL": body = letters(4) + d(10)
        case "CH": body = d(17)
        case "AT": body = d(16)
        default: body = d(12)
        }
        var check = 98 - mod97(body + country + "00")
        if !valid {
            // Any other check digits fail: the number changes by less than 97, never by 0.
            let bad = 2 + rng.below(97)
            check = bad == check ? (check == 98 ? 2 : check + 1) : bad
        }
        let full = country + (check < 10 ? "0\(check)" : "\(check)") + body
        if rng.below(2) == 0 { return full }
        var groups: [String] = []
        var rest = Substring(full)
        while !rest.isEmpty {
            groups.append(String(rest.prefix(4)))
            rest = rest.dropFirst(4)
        }
        return groups.joined(separator: " ")
    }

    mutating func ssn(valid: Bool) -> String {
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: n - String(v).count) + String(v) }
        if valid {
            var area = 1 + rng.below(899)
            if area == 666 { area = 667 }
            return "\(pad(area, 3))-\(pad(1 + rng.below(99), 2))-\(pad(1 + rng.below(9999), 4))"
        }
        return pick(["000-\(pad(1 + rng.below(99), 2))-1234", "666-12-\(pad(1 + rng.below(9999), 4))", "9\(pad(rng.below(100), 2))-34-5678", "123-00-4567", "321-45-0000"])
    }

    mutating func ip() -> String {
        switch rng.below(6) {
        case 0: return "192.168.\(rng.below(256)).\(1 + rng.below(254))"
        case 1: return "10.\(rng.below(256)).\(rng.below(256)).\(rng.below(256))"
        case 2: return "203.0.113.\(rng.below(256))"
        case 3: return "2001:db8::\(String(rng.below(65536), radix: 16))"
        case 4: return "fe80::\(String(rng.below(65536), radix: 16)):\(String(rng.below(256), radix: 16))ff:fe12:3456"
        default: return "2001:0db8:85a3:0000:0000:8a2e:0370:\(String(4096 + rng.below(61440), radix: 16))"
        }
    }

    mutating func secret() -> String {
        func chars(_ n: Int, _ alphabet: String) -> String { let a = Array(alphabet); return String((0..<n).map { _ in a[rng.below(a.count)] }) }
        let alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        let upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        switch rng.below(10) {
        case 0: return "AKIA" + chars(16, upperDigits)
        case 1: return "ghp_" + chars(36, alnum)
        case 2: return "github_pat_" + chars(22, alnum) + "_" + chars(59, alnum)
        case 3: return "sk-proj-" + chars(40, alnum + "-_") + chars(8, "0123456789")
        case 4: return "sk-ant-api03-" + chars(86, alnum + "-_") + "AA"
        case 5: return "AIza" + chars(35, alnum + "-_")
        case 6: return "xoxb-\(100_000_000 + rng.below(900_000_000))-\(100_000_000 + rng.below(900_000_000))-" + chars(24, alnum)
        case 7: return "sk_live_" + chars(24, alnum)
        case 8: return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + chars(40, alnum) + "." + chars(43, alnum + "-_")
        default:
            let body = (0..<4).map { _ in chars(64, alnum + "+/") }.joined(separator: "\n")
            return "-----BEGIN \(pick(["RSA ", "EC ", "OPENSSH ", ""]))PRIVATE KEY-----\n\(body)\n-----END PRIVATE KEY-----"
        }
    }

    // MARK: - Hard negatives

    mutating func hardNegative(_ language: Language) -> (String, String, PIIType?) {
        func d(_ n: Int) -> String { (0..<n).map { _ in String(rng.below(10)) }.joined() }
        switch rng.below(12) {
        case 0: return (leadIn(language, ["Order", "Bestellnummer", "Commande n°", "注文番号"]), pick(["#A-2024-\(d(6))", "ORD-\(d(5))-XK", "\(d(8))", "2024-\(d(5))", "4711-\(d(4))"]), nil)
        case 1: return (leadIn(language, ["Update to", "Aktualisieren auf", "Mise à jour vers", "更新"]), pick(["v1.\(rng.below(20)).\(rng.below(20))", "version \(rng.below(20)).\(rng.below(10)).\(rng.below(10)).\(rng.below(100))", "v\(rng.below(10)).\(rng.below(10)).\(rng.below(10)).\(rng.below(10))", "Build 10.0.\(d(5)).\(rng.below(1000))", "release 4.2.0.\(rng.below(99))", "firmware \(rng.below(9)).\(rng.below(9)).\(rng.below(9)).\(rng.below(9))", "バージョン 1.2.\(rng.below(9)).\(rng.below(9))"]), nil)
        case 2: return ("OID", pick(["1.3.6.1.4.1.\(d(4))", "2.5.4.\(rng.below(50))", "1.2.840.113549.1.1.11", "1.3.6.1.2.1.1.\(rng.below(9)).0"]), nil)
        case 3: return (leadIn(language, ["at", "am", "le", "日時"]), pick(["2024-03-0\(1 + rng.below(9)) 14:22:0\(rng.below(10))", "2024-03-05T14:22:01Z", "05.03.2024 14:22", "14:22:01", "2024/03/05", "12/31/2025", "1709\(d(6))"]), nil)
        case 4: return (leadIn(language, ["Card (invalid)", "Karte (ungültig)", "Carte (invalide)", "無効なカード"]), card(valid: false), nil)
        case 5: return (leadIn(language, ["IBAN (typo)", "IBAN (Tippfehler)", "IBAN (erroné)", "IBAN（誤り）"]), iban(valid: false), nil)
        case 6: return ("SSN", ssn(valid: false), nil)
        case 7: return (leadIn(language, ["ISBN", "ISBN", "ISBN", "ISBN"]), "978-3-16-\(d(6))-\(rng.below(10))", nil)
        case 8: return (leadIn(language, ["Total", "Summe", "Montant", "合計"]), pick(["€1.299,00", "1 299,00 €", "$1,234.56", "12.50 EUR", "¥12,800"]), nil)
        case 9: return (leadIn(language, ["Ticket", "Vorgang", "Dossier", "チケット"]), pick(["JIRA-\(d(4))", "#\(d(6))", "INC\(d(7))", "case \(d(5))"]), nil)
        case 10: return (leadIn(language, ["Postcode", "PLZ", "Code postal", "郵便番号"]), pick(["10115 Berlin", "75008 Paris", "SW1A 1AA", "〒100-0001", "NY 10001"]), nil)
        default: return (leadIn(language, ["Hash", "Prüfsumme", "Empreinte", "ハッシュ"]), pick(["sha256:\(d(16))abcdef", "3f2a9c1", "e3b0c44298fc1c149afbf4c8996fb924"]), nil)
        }
    }

    // MARK: - Helpers

    private mutating func pick<T>(_ options: [T]) -> T { options[rng.below(options.count)] }

    private func luhnCheckDigit(_ digits: [Int]) -> Int {
        var sum = 0
        for (k, d) in digits.reversed().enumerated() {
            var v = d
            if k % 2 == 0 {
                v *= 2
                if v > 9 { v -= 9 }
            }
            sum += v
        }
        return (10 - sum % 10) % 10
    }

    private func mod97(_ s: String) -> Int {
        var r = 0
        for c in s.utf8 {
            if c >= 48 && c <= 57 { r = (r * 10 + Int(c - 48)) % 97 } else { r = (r * 100 + Int(c - 55)) % 97 }
        }
        return r
    }
}

/// A small, fast, seeded generator: the same seed, the same corpus.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
