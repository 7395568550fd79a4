import Foundation
import SluiceCore

/// Makes hostile `POST /v1/jobs` bodies from valid ones, reproducibly from a seed.
///
/// Shared by the in-process fuzz test (IngressTests) and the live one over HTTP
/// (EndToEndTests). Each body is a valid job with one to three mutations: a field set to an
/// edge value or a wrong type, a raw number literal no JSON value can hold (`1e400`), deep
/// nesting, a huge string, invalid UTF-8, a duplicate key, truncation or a damaged byte.
public struct RequestFuzzer {
    private var random: SplitMix64
    private let validBodies: [JSONValue]

    /// - Parameter nowSeconds: Unix time the valid deadlines are relative to.
    public init(seed: UInt64, nowSeconds: Int64) {
        random = SplitMix64(seed: seed)
        validBodies = Self.validBodies(nowSeconds: nowSeconds)
    }

    /// The next body: about one in ten is left valid so that the accepting path is exercised too.
    public mutating func nextBody() -> [UInt8] {
        var value = pick(validBodies)
        if chance(10) { return value.serialized() }
        var raw: String?
        let mutations = Int.random(in: 1...3, using: &random)
        for _ in 0..<mutations {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5: set(&value, at: pick(Self.paths), to: edgeValue())
            case 5: remove(&value, field: pick(Self.fields))
            case 6, 7:
                set(&value, at: pick(Self.paths), to: .string(Self.rawMarker))
                raw = pick(Self.rawLiterals)
            default: break
            }
        }
        var bytes = value.serialized()
        if let raw { Self.splice(raw, into: &bytes) }
        if chance(3) { bytes = mangle(bytes) }
        return bytes
    }

    // MARK: - Valid starting points

    private static func validBodies(nowSeconds: Int64) -> [JSONValue] {
        let deadline = JSONValue.int(nowSeconds + 3_600)
        let isoDeadline = Date(timeIntervalSince1970: Double(nowSeconds + 86_400)).formatted(.iso8601)
        return [
            ["model": "demo", "messages": [["role": "user", "content": "hi"]]],
            ["model": "gpt-4o-mini", "input": "Summarise this."],
            [
                "model": "demo", "priority": "bulk", "deadline": deadline, "metadata": ["batch": "7"],
                "webhook": ["url": "https://example.com/hook"],
                "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": [["type": "text", "text": "hi"]]]],
                "max_tokens": 100, "max_completion_tokens": 200, "temperature": .double(0.7), "top_p": 1, "n": 1,
                "presence_penalty": .double(-0.5), "frequency_penalty": 2, "seed": 42, "stop": ["\n", "END"],
                "logit_bias": ["50256": -100, "13": .double(2.5)], "user": "u-1", "tools": [["type": "function"]],
            ],
            [
                "model": "demo", "stop": "###", "deadline": .string(isoDeadline),
                "messages": [
                    ["role": "user", "content": "weather?"],
                    ["role": "assistant", "content": .null, "tool_calls": [["id": "c1", "type": "function"]]],
                    ["role": "tool", "content": "sunny", "tool_call_id": "c1"],
                ],
            ],
        ]
    }

    static let fields = [
        "model", "messages", "input", "priority", "webhook", "metadata", "deadline", "stream", "max_tokens",
        "max_completion_tokens", "temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "seed", "stop",
        "logit_bias", "tools", "user", "response_format",
    ]

    /// Fields and nested places a mutation may hit; a path is keys and array indexes.
    static let paths: [[PathStep]] = fields.map { [.key($0)] } + [
        [.key("messages"), .index(0)], [.key("messages"), .index(0), .key("role")], [.key("messages"), .index(0), .key("content")],
        [.key("messages"), .index(0), .key("content"), .index(0)], [.key("webhook"), .key("url")], [.key("metadata"), .key("k")],
        [.key("logit_bias"), .key("50256")], [.key("logit_bias"), .key("-1")], [.key("logit_bias"), .key("token")],
        [.key("stop"), .index(0)], [.key("stop"), .index(4)],
        // Keys errors may quote: a 10 KB one must not come back as a 10 KB answer.
        [.key(String(repeating: "x", count: 10_000))], [.key("metadata"), .key(String(repeating: "k", count: 10_000))],
        [.key("logit_bias"), .key(String(repeating: "7", count: 10_000))],
    ]

    enum PathStep: Sendable { case key(String), index(Int) }

    // MARK: - Edge values

    private mutating func edgeValue() -> JSONValue {
        switch Int.random(in: 0..<12, using: &random) {
        case 0..<5: return pick(Self.edgeNumbers)
        case 5..<8: return pick(Self.edgeScalars)
        case 8: return .string(hugeString())
        case 9: return nested(depth: Int.random(in: 1...250, using: &random))
        default:
            switch Int.random(in: 0..<4, using: &random) {
            case 0: return .array((0..<Int.random(in: 0...8, using: &random)).map { _ in pick(Self.edgeScalars) })
            case 1: return .object(Dictionary(uniqueKeysWithValues: (0..<301).map { ("\($0)", JSONValue.int(1)) }))
            case 2: return .object(Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...5, using: &random)).map { ("k\($0)", pick(Self.edgeScalars)) }))
            default: return .array((0..<5).map { .string("s\($0)") })
            }
        }
    }

    static let edgeNumbers: [JSONValue] = [
        .int(.min), .int(.max), .int(0), .int(-1), .int(1), .int(2), .int(100), .int(128), .int(129), .int(300), .int(1_000_000),
        .int(1_000_001), .int(9_300_000_000_000_000), .int(-9_300_000_000_000_000), .int(9_223_372_036_854_775),
        .int(9_223_372_036_854_776), .double(1e308), .double(-1e308), .double(-0.0), .double(0.5), .double(1.5),
        .double(2.0000001), .double(-2.0000001), .double(100.5), .double(-100.0000001), .double(.leastNonzeroMagnitude),
        .double(9.3e15), .double(9.3e18), .double(1e19), .double(-9.3e18), .double(4102444800.5), .double(1.7976931348623157e308),
    ]

    static let edgeScalars: [JSONValue] = [
        .null, .bool(true), .bool(false), .string(""), .string("x"), .string("p0"), .string("interactive"),
        .string("2030-01-01T00:00:00Z"), .string("9999-12-31T23:59:59Z"), .string("0000-01-01T00:00:00Z"),
        .string("1970-01-01T00:00:00Z"), .string("not a date"), .string("\u{0}\u{1F}\u{7F}"), .string("é😀\u{FFFF}"),
        .string("https://"), .string("http://[::1"), .string("user"), .string("demo"), .int(7), .double(0.25),
    ]

    /// Number literals (and non-JSON look-alikes) that go into the body as raw text.
    static let rawLiterals = [
        "1e400", "-1e400", "1E+999", "1e-400", "-0", "-0.0", "0e0", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "123456789012345678901234567890", "1.7976931348623157e308",
        "1.7976931348623159e308", "2.2250738585072011e-308", "9300000000000000", "9300000000000000.0", "NaN", "Infinity",
        "-Infinity", "+1", ".5", "01", "1.", "0x10", "1e", "--1",
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        String(repeating: #"{"a":"#, count: 257) + "1" + String(repeating: "}", count: 257),
        String(repeating: "[", count: 256) + String(repeating: "]", count: 256),
        String(repeating: "9", count: 5_000),
    ]

    private static let rawMarker = "@@raw-literal@@"
    private static let rawMarkerBytes = Array("\"@@raw-literal@@\"".utf8)

    private mutating func hugeString() -> String {
        // Now and then one that, escaped, passes the 1 MiB body limit; rarely, as big bodies
        // dominate the run time.
        let length = chance(100) ? 300_000 : chance(20) ? 65_536 : pick([0, 1, 100, 1_000])
        return String(repeating: pick(["a", "é", "😀", "\\", "\"", "\n"]), count: length)
    }

    private mutating func nested(depth: Int) -> JSONValue {
        var value: JSONValue = "leaf"
        let asArray = chance(2)
        for _ in 0..<depth { value = asArray ? .array([value]) : .object(["a": value]) }
        return value
    }

    // MARK: - Byte-level damage

    private mutating func mangle(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        guard !bytes.isEmpty else { return bytes }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<7, using: &random) {
        case 0:
            bytes.removeSubrange(at...)
        case 1:
            bytes[at] = UInt8.random(in: 0...255, using: &random)
        case 2:
            // Invalid UTF-8 inside the first string after `at` (or anywhere).
            let quote = bytes[at...].firstIndex(of: UInt8(ascii: "\"")) ?? at
            bytes.insert(contentsOf: pick(Self.invalidUTF8), at: min(quote + 1, bytes.count))
        case 3:
            // A duplicate key: the same field again, first or last in the object.
            let field = pick(["model", "messages", "priority", "deadline", "max_tokens", "temperature", "role", "content"])
            let entry = Array("\"\(field)\":\(pick(["\"demo\"", "1", "null", "[]", "{}", "\"user\""])),".utf8)
            if let brace = bytes.firstIndex(of: UInt8(ascii: "{")) { bytes.insert(contentsOf: entry, at: brace + 1) }
            if chance(2), let inner = bytes.lastIndex(of: UInt8(ascii: "{")) { bytes.insert(contentsOf: entry, at: inner + 1) }
        case 4:
            let count = Int.random(in: 1...min(16, bytes.count - at), using: &random)
            bytes.removeSubrange(at..<(at + count))
        case 5:
            bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: at)
        default:
            let end = min(bytes.count, at + Int.random(in: 1...64, using: &random))
            bytes.insert(contentsOf: bytes[at..<end], at: end)
        }
        return bytes
    }

    static let invalidUTF8: [[UInt8]] = [
        [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ]

    // MARK: - Tree edits

    private func set(_ value: inout JSONValue, at path: [PathStep], to newValue: JSONValue) {
        guard let step = path.first else {
            value = newValue
            return
        }
        let rest = Array(path.dropFirst())
        switch (step, value) {
        case (.key(let key), .object(var fields)):
            var child = fields[key] ?? (rest.isEmpty ? .null : .object([:]))
            set(&child, at: rest, to: newValue)
            fields[key] = child
            value = .object(fields)
        case (.index(let i), .array(var items)):
            if i < items.count {
                set(&items[i], at: rest, to: newValue)
            } else {
                var child = JSONValue.null
                set(&child, at: rest, to: newValue)
                items.append(child)
            }
            value = .array(items)
        default:
            // The path does not exist in this body's shape: the mutation replaces what is there.
            value = newValue
        }
    }

    private func remove(_ value: inout JSONValue, field: String) {
        guard case .object(var fields) = value else { return }
        fields.removeValue(forKey: field)
        value = .object(fields)
    }

    /// Puts the raw literal where the marker string is (the generic `replace` is too slow on
    /// large bodies in debug builds, and this runs tens of thousands of times).
    private static func splice(_ raw: String, into bytes: inout [UInt8]) {
        let needle = rawMarkerBytes
        while let offset = bytes.withUnsafeBufferPointer({ haystack -> Int? in
            guard haystack.count >= needle.count else { return nil }
            for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && haystack[i + 1] == needle[1] {
                if needle.indices.allSatisfy({ haystack[i + $0] == needle[$0] }) { return i }
            }
            return nil
        }) {
            bytes.replaceSubrange(offset..<(offset + needle.count), with: raw.utf8)
        }
    }

    // MARK: - Randomness

    private mutating func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &random)] }
    private mutating func chance(_ oneIn: Int) -> Bool { Int.random(in: 0..<oneIn, using: &random) == 0 }
}

/// A small, fast, seedable generator (Steele, Lea, Flood: SplitMix64), so that a failing run
/// can be replayed from its printed seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
