import Foundation
import SluiceCore
import Testing

@testable import Ingress

@Suite("Multipart parser")
struct MultipartParserTests {
    static let body = Array(
        ("--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in put.jsonl\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\nline one\r\nline two\r\n-XyZ not --XyZ\r\n--XyZ--\r\n").utf8)

    /// The parts (headers, body) a parser finds in `chunks`.
    static func parts(_ chunks: [[UInt8]], boundary: String = "XyZ") throws -> [(headers: [String: String], body: [UInt8])] {
        var parser = MultipartParser(boundary: boundary)
        var parts: [(headers: [String: String], body: [UInt8])] = []
        var ended = 0
        for chunk in chunks {
            for event in try parser.feed(chunk) {
                switch event {
                case .partStart(let headers): parts.append((headers, []))
                case .body(let bytes): parts[parts.count - 1].body += bytes
                case .partEnd: ended += 1
                }
            }
        }
        try parser.finish()
        #expect(ended == parts.count)
        return parts
    }

    /// (A body cannot contain CRLF + `--boundary`: RFC 2046 makes that a delimiter.)
    @Test("parses fields and a file part whose body contains CRLF and near-delimiters")
    func wholeBody() throws {
        let parts = try Self.parts([Self.body])
        #expect(parts.count == 2)
        #expect(parts[0].body == Array("batch".utf8))
        #expect(String(decoding: parts[1].body, as: UTF8.self) == "line one\r\nline two\r\n-XyZ not --XyZ")
        #expect(parts[1].headers["content-type"] == "application/octet-stream")
        let disposition = MultipartParser.dispositionParameters(parts[1].headers["content-disposition"] ?? "")
        #expect(disposition == ["name": "file", "filename": "in put.jsonl"])
    }

    @Test("gives the same parts however the bytes are split", arguments: [1, 2, 3, 5, 7, 11, 64])
    func anySplit(size: Int) throws {
        let chunks = stride(from: 0, to: Self.body.count, by: size).map { Array(Self.body[$0..<min($0 + size, Self.body.count)]) }
        let parts = try Self.parts(chunks)
        let whole = try Self.parts([Self.body])
        #expect(parts.map(\.body) == whole.map(\.body))
        #expect(parts.map(\.headers) == whole.map(\.headers))
    }

    @Test("holds back no more than a delimiter's length of a large part")
    func streams() throws {
        var parser = MultipartParser(boundary: "b")
        _ = try parser.feed(Array("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".utf8))
        var emitted = 0
        for _ in 0..<100 {
            for case .body(let bytes) in try parser.feed([UInt8](repeating: 65, count: 10_000)) { emitted += bytes.count }
        }
        #expect(emitted >= 1_000_000 - 5)
    }

    @Test("refuses a body without its closing delimiter, and oversized headers")
    func malformed() throws {
        var parser = MultipartParser(boundary: "b")
        _ = try parser.feed(Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc".utf8))
        #expect(throws: MultipartParser.ParseError.self) { try parser.finish() }

        var headers = MultipartParser(boundary: "b")
        #expect(throws: MultipartParser.ParseError.self) {
            _ = try headers.feed(Array("--b\r\nX: ".utf8) + [UInt8](repeating: 65, count: MultipartParser.maxHeaderBytes + 10))
        }
    }

    @Test("reads the boundary from Content-Type")
    func boundary() {
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(MultipartParser.boundary(contentType: "application/json") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data") == nil)
    }
}

@Suite("Batch input lines")
struct BatchLineValidatorTests {
    static let validator = BatchLineValidator(
        requests: JobRequestValidator(models: ["demo"], configuration: IngressConfiguration()), endpoint: "/v1/chat/completions",
        maxLineBytes: 1 << 20)

    static func check(_ line: String) -> BatchLineValidator.Outcome {
        validator.validate(Array(line.utf8), nowMs: 1_700_000_000_000)
    }

    @Test("a good line becomes a p2 job request")
    func valid() throws {
        let outcome = Self.check(#"{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"demo","messages":[{"role":"user","content":"hi"}],"priority":"p0"}}"#)
        guard case .valid(let customID, let request) = outcome else { Issue.record("not valid: \(outcome)"); return }
        #expect(customID == "a")
        #expect(request.model == "demo")
        #expect(request.priority == .p2)
    }

    @Test(
        "a bad line is refused with a code naming the fault",
        arguments: [
            ("nope", "invalid_json_line"),
            ("[1]", "invalid_json_line"),
            (#"{"method":"POST","url":"/v1/chat/completions","body":{}}"#, "missing_custom_id"),
            (#"{"custom_id":"a","method":"GET","url":"/v1/chat/completions","body":{}}"#, "invalid_method"),
            (#"{"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{}}"#, "url_mismatch"),
            (#"{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":"x"}"#, "invalid_body"),
            (#"{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"other","messages":[{"role":"user","content":"x"}]}}"#, "model_not_found"),
        ])
    func invalid(line: String, code: String) {
        guard case .invalid(_, let found, let message) = Self.check(line) else { Issue.record("accepted: \(line)"); return }
        #expect(found == code)
        #expect(!message.isEmpty)
    }

    @Test("the line reader splits LF and CRLF lines and flags an over-long line without holding it")
    func lineReader() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID().uuidString)").path
        let long = String(repeating: "x", count: 200_000)
        try "a\r\nb\n\(long)\nc".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try LineReader(path: path, maxLineBytes: 1_000)
        var seen: [String] = []
        while let line = try reader.next() {
            switch line {
            case .line(let bytes): seen.append(String(decoding: bytes, as: UTF8.self))
            case .tooLong(let bytes): seen.append("too long \(bytes)")
            }
        }
        #expect(seen == ["a", "b", "too long 200000", "c"])
    }

    @Test("Anthropic custom ids follow ^[a-zA-Z0-9_-]{1,64}$")
    func anthropicCustomIDs() {
        #expect(MessageBatchRoutes.isValidCustomID("req_1-A"))
        #expect(!MessageBatchRoutes.isValidCustomID(""))
        #expect(!MessageBatchRoutes.isValidCustomID("a b"))
        #expect(!MessageBatchRoutes.isValidCustomID(String(repeating: "a", count: 65)))
    }

    @Test("Anthropic params become a chat-completions body")
    func anthropicParams() throws {
        let params: JSONValue = [
            "model": "demo", "max_tokens": 10, "system": "Be brief.", "stop_sequences": ["x"],
            "messages": [["role": "user", "content": [["type": "text", "text": "hi"]]]],
        ]
        let body = try AnthropicBatchConversion.chatBody(params, param: "params")
        #expect(body["messages"] == [["role": "system", "content": "Be brief."], ["role": "user", "content": "hi"]])
        #expect(body["max_tokens"] == 10)
        #expect(body["stop"] == ["x"])
        #expect(throws: AnthropicBatchConversion.Refusal.self) {
            try AnthropicBatchConversion.chatBody(["model": "demo", "messages": [["role": "user", "content": "x"]]], param: "params")
        }
    }
}
