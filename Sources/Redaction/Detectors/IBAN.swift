extension ByteText {
    /// An IBAN starting at `i`: a known country code, two check digits and the country's BBAN
    /// length, written solid or in groups of four separated by single spaces.
    ///
    /// - Returns: the end, and whether mod-97 is 1; an IBAN-shaped value failing the check is
    ///   returned too, so that its digits are not read as a card or phone number.
    func iban(at i: Int) -> (end: Int, valid: Bool)? {
        guard Bytes.isUpper(at(i)), Bytes.isUpper(at(i + 1)), Bytes.isDigit(at(i + 2)), Bytes.isDigit(at(i + 3)),
            let length = IBANLengths.length(self[i], self[i + 1])
        else { return nil }
        var chars = [UInt8]()
        chars.reserveCapacity(length)
        var j = i
        while chars.count < length && j < count {
            let b = self[j]
            if Bytes.isUpper(b) || Bytes.isDigit(b) {
                chars.append(b)
                j += 1
            } else if b == Bytes.space && chars.count % 4 == 0 && (Bytes.isUpper(at(j + 1)) || Bytes.isDigit(at(j + 1))) {
                j += 1
            } else {
                break
            }
        }
        guard chars.count == length, !Bytes.isWord(at(j)) else { return nil }
        return (j, Self.ibanChecksumValid(chars))
    }

    /// ISO 13616: the first four characters moved to the end, letters as 10–35, the number mod 97 is 1.
    static func ibanChecksumValid(_ chars: [UInt8]) -> Bool {
        var remainder = 0
        for k in 0..<chars.count {
            let b = chars[(k + 4) % chars.count]
            if Bytes.isDigit(b) {
                remainder = (remainder * 10 + Int(b - 0x30)) % 97
            } else {
                remainder = (remainder * 100 + Int(b - 0x41) + 10) % 97
            }
        }
        return remainder == 1
    }
}

/// IBAN lengths by country (the SWIFT IBAN registry), for the countries whose IBANs are in use.
enum IBANLengths {
    private static let table: [UInt16: Int] = {
        let entries: [(String, Int)] = [
            ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16), ("BG", 22), ("BH", 22),
            ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22), ("CY", 28), ("CZ", 24), ("DE", 22), ("DK", 18), ("DO", 28),
            ("EE", 20), ("EG", 29), ("ES", 24), ("FI", 18), ("FO", 18), ("FR", 27), ("GB", 22), ("GE", 22), ("GI", 23),
            ("GL", 18), ("GR", 27), ("GT", 28), ("HR", 21), ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26),
            ("IT", 27), ("JO", 30), ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20),
            ("LV", 21), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MR", 27), ("MT", 31), ("MU", 30), ("NL", 18),
            ("NO", 15), ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22), ("SA", 24),
            ("SC", 31), ("SE", 24), ("SI", 19), ("SK", 24), ("SM", 27), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24),
            ("TR", 26), ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20),
        ]
        var table: [UInt16: Int] = [:]
        for (code, length) in entries {
            let u = Array(code.utf8)
            table[UInt16(u[0]) << 8 | UInt16(u[1])] = length
        }
        return table
    }()

    static func length(_ a: UInt8, _ b: UInt8) -> Int? { table[UInt16(a) << 8 | UInt16(b)] }
}
