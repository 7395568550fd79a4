import Testing

@testable import Redaction

/// The detectors one value at a time: what each finds, and what it must leave alone.
@Suite("Detectors")
struct DetectorTests {
    let scanner = PIIScanner()

    /// The found values of `text` as (substring, type).
    func found(_ text: String) -> [(String, String)] {
        let bytes = Array(text.utf8)
        return scanner.matches(in: text).map { (String(decoding: bytes[$0.range], as: UTF8.self), $0.type.rawValue) }
    }

    func expectFinds(_ text: String, _ value: String, _ type: PIIType, sourceLocation: SourceLocation = #_sourceLocation) {
        let result = found(text)
        #expect(result.count == 1 && result.first?.0 == value && result.first?.1 == type.rawValue, "\(text) → \(result)", sourceLocation: sourceLocation)
    }

    func expectNothing(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let result = found(text)
        #expect(result.isEmpty, "\(text) → \(result)", sourceLocation: sourceLocation)
    }

    @Test("e-mail addresses, with punctuation and unicode glued around them")
    func emails() {
        expectFinds("Write to anna.b+news@mail.example.de.", "anna.b+news@mail.example.de", .email)
        expectFinds("メール「yuki@example.co.jp」まで", "yuki@example.co.jp", .email)
        expectFinds("<J_Smith99@EXAMPLE.NET>", "J_Smith99@EXAMPLE.NET", .email)
        expectNothing("user@localhost and @handle and a@b.c")
    }

    @Test("phone numbers: E.164 and US, UK, DE, FR, JP national formats")
    func phones() {
        for number in [
            "+1 415 555 2671", "(415) 555-2671", "415-555-2671", "415.555.2671", "1-415-555-2671", "+44 20 7946 0958",
            "020 7946 0958", "07700 900123", "+49 30 12345678", "030 12345678", "0151 23456789", "+49 (0)30 1234567",
            "030/1234567", "06 12 34 56 78", "+33 6 12 34 56 78", "01.23.45.67.89", "03-1234-5678", "+81 90-1234-5678",
        ] {
            expectFinds("Tel.\u{00A0}\(number).", number, .phone)
        }
        expectFinds("call 612345678 now", "612345678", .phone)
        expectNothing("In 2024 we sold 1500 units, order 4711-0815.")
        expectNothing("ISBN 978-3-16-148410-0, at 2024-03-05 14:22:01")
    }

    @Test("cards are Luhn-checked; failing numbers are left whole")
    func cards() {
        expectFinds("card 4111 1111 1111 1111, exp 12/26", "4111 1111 1111 1111", .creditCard)
        expectFinds("Amex 3782-822463-10005", "3782-822463-10005", .creditCard)
        expectFinds("5555555555554444", "5555555555554444", .creditCard)
        expectNothing("card 4111 1111 1111 1112")
        expectNothing("ref 1234567812345678")
    }

    @Test("IBANs are mod-97-checked, solid or grouped")
    func ibans() {
        expectFinds("IBAN DE89 3704 0044 0532 0130 00.", "DE89 3704 0044 0532 0130 00", .iban)
        expectFinds("IBAN:GB82WEST12345698765432", "GB82WEST12345698765432", .iban)
        expectFinds("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606", .iban)
        expectNothing("IBAN DE88 3704 0044 0532 0130 00")
        expectNothing("GB82WEST1234569876543")
    }

    @Test("US SSNs outside the never-issued ranges")
    func ssns() {
        expectFinds("SSN 123-45-6789", "123-45-6789", .usSSN)
        for invalid in ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "321-45-0000"] { expectNothing("SSN \(invalid)") }
    }

    @Test("IPv4 in network context, not version numbers or OIDs; IPv6 full and compressed")
    func addresses() {
        expectFinds("connect to 192.168.0.10:8080", "192.168.0.10", .ipAddress)
        expectFinds("subnet 10.0.0.0/8.", "10.0.0.0/8", .ipAddress)
        expectFinds("host 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", .ipAddress)
        expectFinds("via fe80::1ff:fe23:4567:890a.", "fe80::1ff:fe23:4567:890a", .ipAddress)
        expectFinds("localhost is ::1", "::1", .ipAddress)
        expectFinds("mapped ::ffff:192.0.2.1", "::ffff:192.0.2.1", .ipAddress)
        for negative in [
            "v1.2.3.4", "version 10.0.0.1", "Version: 10.0.0.1", "release 4.2.0.17", "バージョン 1.2.3.4", "OID 1.3.6.1.4.1",
            "at 14:22:01", "MAC 00:1a:2b:3c:4d:5e", "std::vector", "Add::Bad", "300.1.2.3",
        ] {
            expectNothing(negative)
        }
    }

    @Test("secrets: private keys, JWTs and provider key formats")
    func secrets() {
        let values = [
            "AKIAIOSFODNN7EXAMPLE", "ghp_" + String(repeating: "a1B2", count: 9), "github_pat_" + String(repeating: "x", count: 22) + "_" + String(repeating: "Y9", count: 20),
            "sk-proj-" + String(repeating: "Ab1-", count: 10), "sk-ant-api03-" + String(repeating: "zZ9_", count: 20), "sk-" + String(repeating: "aB3", count: 16),
            "AIzaSyA" + String(repeating: "b", count: 32), "xoxb-123456789012-1234567890123-abcdefABCDEF", "sk_live_" + String(repeating: "4eC3", count: 6),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n-----END RSA PRIVATE KEY-----",
        ]
        for value in values { expectFinds("key=\(value)\n", value, .secret) }
        expectNothing("sk-learning-is-a-hyphenated-phrase and -----BEGIN CERTIFICATE-----")
    }

    @Test("spans are reported in Unicode scalars")
    func scalarOffsets() {
        let text = "é😀 mail a@example.com\u{00A0}ok"
        let spans = scanner.scalarSpans(in: text)
        #expect(spans == [.init(start: 8, end: 21, type: .email)])
        let scalars = Array(text.unicodeScalars)
        #expect(String(String.UnicodeScalarView(scalars[8..<21])) == "a@example.com")
    }

    @Test("custom patterns and deny-list terms are found under their names")
    func tenantPatterns() throws {
        let scanner = PIIScanner(customPatterns: [try CustomPattern(name: "EMPLOYEE_ID", pattern: "EMP-[0-9]{6}")], denyList: ["Project Bluebird"])
        let text = "EMP-123456 works on project bluebird with bob@example.com"
        let bytes = Array(text.utf8)
        let found = scanner.matches(in: text).map { (String(decoding: bytes[$0.range], as: UTF8.self), $0.type.rawValue) }
        #expect(found.map(\.0) == ["EMP-123456", "project bluebird", "bob@example.com"])
        #expect(found.map(\.1) == ["EMPLOYEE_ID", "DENY_LIST", "EMAIL"])
        #expect(throws: RedactionError.self) { try CustomPattern(name: "BAD", pattern: "([") }
    }
}
