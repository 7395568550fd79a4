import SluiceCore
import Testing

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    private func text(_ value: JSONValue) -> String { String(decoding: value.canonicalJSON(), as: UTF8.self) }

    @Test("keys sorted by UTF-8 bytes, no whitespace, nested")
    func sortedKeys() throws {
        let value = try JSONValue.parse(Array(#" { "b" : 1, "a" : [ true, null, { "é": 1, "z": 2, "Z": 3 } ], "aa": "x" } "#.utf8))
        #expect(text(value) == #"{"a":[true,null,{"Z":3,"z":2,"é":1}],"aa":"x","b":1}"#)
    }

    @Test("numbers: integral values as integers, others as the shortest round-trip text")
    func numbers() throws {
        #expect(text(try JSONValue.parse(Array("[1e3, 1000.0, -0.0, 0.1, 1.5, 1e-7, 9007199254740993, 1e300]".utf8)))
            == "[1000,1000,0,0.1,1.5,1e-07,9007199254740993,1e+300]")
        #expect(text(.double(12.0)) == "12")
        #expect(text(.int(-42)) == "-42")
        // 2^53 and above stay doubles (not every integer there is a double).
        #expect(text(.double(9_007_199_254_740_992)) == "9007199254740992.0")
    }

    @Test("strings: only the required escapes, UTF-8 kept raw")
    func strings() {
        #expect(text(.string("a\"b\\c\nd\te\u{01}/ü€")) == "\"a\\\"b\\\\c\\nd\\te\\u0001/ü€\"")
    }

    @Test("equal values give equal bytes whatever the input layout")
    func stable() throws {
        let a = try JSONValue.parse(Array(#"{"x":{"q":[1,2.0]},"y":"s"}"#.utf8))
        let b = try JSONValue.parse(Array(#"{ "y" : "s", "x" : { "q" : [ 1.0, 2 ] } }"#.utf8))
        #expect(a.canonicalJSON() == b.canonicalJSON())
        // And a round trip through the ledger's stored form (serialized, parsed) keeps them.
        #expect(try JSONValue.parse(a.serialized()).canonicalJSON() == a.canonicalJSON())
    }
}
