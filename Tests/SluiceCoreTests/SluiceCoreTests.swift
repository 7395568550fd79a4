import Foundation
import SluiceCore
import Testing

@Suite("Core types")
struct SluiceCoreTests {
    @Test("UUIDv7 ids are well formed, version 7, RFC variant and strictly increasing")
    func uuidv7() {
        let ids = (0..<10_000).map { _ in UUIDv7.generate() }
        for id in ids.prefix(100) {
            #expect(UUIDv7.isWellFormed(id))
            #expect(Array(id)[14] == "7")
            #expect("89ab".contains(Array(id)[19]))
        }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "ids from one process must sort in creation order")
        #expect(Set(ids).count == ids.count)
        #expect(!UUIDv7.isWellFormed("not-a-uuid"))
        #expect(!UUIDv7.isWellFormed("0193a0c4-0000-7000-8000-00000000000g"))
    }

    @Test("priorities parse from topic names and client words")
    func priorities() {
        #expect(Priority(parsing: "interactive") == .p0)
        #expect(Priority(parsing: "P1") == .p1)
        #expect(Priority(parsing: "bulk") == .p2)
        #expect(Priority(parsing: "urgent") == nil)
    }

    @Test("topic names follow the prefix")
    func topics() {
        let catalog = TopicCatalog(prefix: "acme")
        #expect(catalog.jobs(.p2) == "acme.jobs.p2")
        #expect(catalog.resolve("sluice.jobs.retry.5s") == "acme.jobs.retry.5s")
        #expect(catalog.priority(ofTopic: "acme.jobs.p0") == .p0)
        #expect(catalog.priority(ofTopic: "acme.results") == nil)
        #expect(TopicCatalog().resolve("sluice.audit") == "sluice.audit")
    }

    @Test("configuration: only what differs needs saying; mistakes are named")
    func configuration() throws {
        let json = #"{"kafka":{"bootstrap_servers":"k:9092"},"providers":[{"name":"stub","base_url":"http://x/v1"}],"routes":{"demo":{"provider":"stub"},"bad":{"provider":"nope"}}}"#
        let c = try JSONDecoder().decode(SluiceConfiguration.self, from: Data(json.utf8))
        #expect(c.kafka.bootstrapServers == "k:9092")
        #expect(c.kafka.sessionTimeoutMs == 45_000)
        #expect(c.ingress.port == 8080 && c.ingress.maxBodyBytes == 1 << 20)
        #expect(c.workers.maxInFlight == 256 && c.workers.weights == [8, 4, 1])
        #expect(c.problems() == ["routes.bad.provider 'nope' is not one of providers[].name"])
        #expect(c.ingress.maxOutputTokens == 1_000_000 && c.ingress.maxDeadlineAheadSeconds == 365 * 86_400)
    }

    @Test("ingress limits: set by key, and nonsense is named")
    func ingressLimits() throws {
        let json = #"{"ingress":{"max_output_tokens":4096,"max_deadline_ahead_seconds":86400}}"#
        let c = try JSONDecoder().decode(SluiceConfiguration.self, from: Data(json.utf8))
        #expect(c.ingress.maxOutputTokens == 4_096 && c.ingress.maxDeadlineAheadSeconds == 86_400)
        #expect(c.problems().isEmpty)
        let bad = #"{"ingress":{"max_output_tokens":0,"max_deadline_ahead_seconds":9223372036854775807}}"#
        let problems = try JSONDecoder().decode(SluiceConfiguration.self, from: Data(bad.utf8)).problems()
        #expect(problems.contains("ingress.max_output_tokens must be between 1 and 100000000, got 0"))
        #expect(problems.contains { $0.hasPrefix("ingress.max_deadline_ahead_seconds must be between 1 and") })
    }

    @Test("envelopes round-trip and keep unknown request fields")
    func envelopes() throws {
        let job = JobEnvelope(
            id: UUIDv7.generate(), tenant: "acme", model: "demo", priority: .p1,
            request: ["messages": [["role": "user", "content": "hi"]], "temperature": .double(0.2), "x_vendor": ["a": 1]],
            createdAtMs: 1
        )
        let back = try Wire.decode(JobEnvelope.self, from: Wire.encode(job))
        #expect(back == job)
        #expect(back.request["x_vendor"]?["a"]?.intValue == 1)
    }
}

@Suite("JSON reader and writer")
struct JSONValueParsingTests {
    @Test("parses every JSON type and writes it back with sorted keys")
    func roundTrip() throws {
        let text = #"{"b":[1,-2,3.5,1e3,true,false,null],"a":{"s":"x\"y\\z\n\u00e9\ud83d\ude00/"},"big":12345678901234}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value["b"]?.arrayValue?.count == 7)
        #expect(value["b"]?.arrayValue?[2] == .double(3.5))
        #expect(value["b"]?.arrayValue?[3] == .double(1000))
        #expect(value["a"]?["s"]?.stringValue == "x\"y\\z\né😀/")
        #expect(value["big"]?.intValue == 12_345_678_901_234)
        let written = String(decoding: value.serialized(), as: UTF8.self)
        #expect(written.hasPrefix(#"{"a":{"s":"x\"y\\z\né😀/"},"b":[1,-2,3.5,1000,true,false,null],"#))
        #expect(try JSONValue.parse(value.serialized()) == value)
        // Foundation reads what we write.
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(value.serialized()))
        #expect(foundation["a"] == value["a"])
    }

    @Test("rejects malformed input with the offset of the problem", arguments: [
        ("", 0), ("{", 1), ("[1,]", 3), (#"{"a" 1}"#, 5), ("nul", 0), ("01", 1), (#""abc"#, 4), ("1 2", 2),
        (#""\x""#, 3), (#"{"a":1,}"#, 7), ("-", 1), ("1.", 2),
    ])
    func malformed(_ text: String, _ offset: Int) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
        do {
            _ = try JSONValue.parse(Array(text.utf8))
        } catch {
            #expect(error.offset == offset, "\(text): \(error)")
        }
    }

    @Test("a number beyond Double is an error, never inf; tiny ones become 0", arguments: ["1e400", "-1e400", "1E+999", "[1.7976931348623159e308]"])
    func outOfRange(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test("numbers at the edges keep their value")
    func edgeNumbers() throws {
        #expect(try JSONValue.parse(Array("1e-400".utf8)) == .double(0))
        #expect(try JSONValue.parse(Array("9223372036854775807".utf8)) == .int(.max))
        #expect(try JSONValue.parse(Array("-9223372036854775808".utf8)) == .int(.min))
        // Beyond Int64 the reader falls back to a (finite) Double.
        #expect(try JSONValue.parse(Array("9223372036854775808".utf8)) == .double(9_223_372_036_854_775_808))
        #expect(try JSONValue.parse(Array("1.7976931348623157e308".utf8)) == .double(.greatestFiniteMagnitude))
    }

    @Test("duplicate keys: the last wins by default, an error naming the key when asked")
    func duplicateKeys() throws {
        let text = Array(#"{"a":1,"m":[{"r":"x","r":"y"}]}"#.utf8)
        #expect(try JSONValue.parse(text)["m"]?.arrayValue?.first?["r"] == "y")
        do {
            _ = try JSONValue.parse(text, rejectingDuplicateKeys: true)
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.reason == "duplicate key 'r'")
            #expect(error.path == "m[0].r")
            #expect(error.offset == 21)
        }
        #expect(try JSONValue.parse(Array(#"{"a":{"a":1},"b":{"a":2}}"#.utf8), rejectingDuplicateKeys: true)["b"]?["a"] == 2)
    }

    @Test("an error names the path to the bad value")
    func errorPath() {
        do {
            _ = try JSONValue.parse(Array(#"{"messages":[{"role":"user"},{"content":1e999}]}"#.utf8))
            Issue.record("1e999 was accepted")
        } catch {
            #expect(error.path == "messages[1].content")
            #expect(error.reason == "number out of range")
        }
    }

    @Test("refuses nesting deeper than the limit instead of overflowing the stack")
    func depth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSONValue.parse(Array(ok.utf8))) != nil)
    }

    @Test("envelopes name the field that is wrong")
    func shapeErrors() throws {
        let bad = #"{"id":"x","tenant":"t","model":"m","priority":"p9","request":{},"created_at_ms":1}"#
        #expect(throws: JSONShapeError(path: "job.priority", reason: "unknown priority 'p9'")) {
            try Wire.decode(JobEnvelope.self, from: Array(bad.utf8))
        }
        let missing = #"{"id":"x","tenant":"t","model":"m","priority":"p1","created_at_ms":1}"#
        #expect(throws: JSONShapeError(path: "job.request", reason: "required")) {
            try Wire.decode(JobEnvelope.self, from: Array(missing.utf8))
        }
    }

    @Test("envelopes on the wire are plain JSON that another reader and writer agree on")
    func wireInterop() throws {
        let result = ResultEnvelope(
            jobID: "j", tenant: "t", attempt: 2, status: .failed, model: "m", route: "stub/m",
            error: JobError(type: "provider_error", code: "http_500", message: "boom", providerStatus: 500),
            usage: Usage(promptTokens: 3, completionTokens: 4), startedAtMs: 5, finishedAtMs: 6
        )
        // Foundation reads what Wire writes, field for field…
        let viaFoundation = try JSONDecoder().decode(JSONValue.self, from: Data(Wire.encode(result)))
        #expect(try ResultEnvelope(json: viaFoundation) == result)
        #expect(viaFoundation["error"]?["provider_status"]?.intValue == 500)
        // …and Wire reads what Foundation writes.
        #expect(try Wire.decode(ResultEnvelope.self, from: Array(try JSONEncoder().encode(result.json))) == result)
        let event = AuditEvent(type: .started, tenant: "t", jobID: "j", attempt: 1, atMs: 9, actor: "worker:x:1", detail: ["route": "stub/m"])
        #expect(try Wire.decode(AuditEvent.self, from: Wire.encode(event)) == event)
        #expect(try AuditEvent(json: JSONDecoder().decode(JSONValue.self, from: Data(Wire.encode(event)))) == event)
        let job = JobEnvelope(id: "j", tenant: "t", model: "m", priority: .p2, request: ["messages": []], webhook: .init(url: "https://x/y"), createdAtMs: 1)
        #expect(try Wire.decode(JobEnvelope.self, from: Array(try JSONEncoder().encode(job.json))) == job)
    }
}

@Suite("Backoff, derived ids, truncation")
struct RetryPrimitivesTests {
    @Test("full jitter stays under a doubling ceiling that saturates at the cap, for any retry number")
    func backoff() {
        let backoff = Backoff(baseMs: 500, capMs: 60_000)
        #expect(backoff.ceilingMs(retry: 1) == 500)
        #expect(backoff.ceilingMs(retry: 3) == 2_000)
        #expect(backoff.ceilingMs(retry: 20) == 60_000)
        #expect(backoff.ceilingMs(retry: Int.max) == 60_000)
        #expect(backoff.ceilingMs(retry: Int.min) == 500)
        var generator = SystemRandomNumberGenerator()
        for retry in [1, 2, 5, 64, 1_000] {
            let delay = backoff.delayMs(retry: retry, using: &generator)
            #expect((0...backoff.ceilingMs(retry: retry)).contains(delay))
        }
        #expect(Backoff(baseMs: Int.max, capMs: 10).ceilingMs(retry: 2) == Int.max)
    }

    @Test("derived ids are stable, distinct per input, and well-formed version-8 UUIDs")
    func derivedIDs() {
        let a = AuditEvent.id(jobID: "j1", type: .started, attempt: 1)
        #expect(a == AuditEvent.id(jobID: "j1", type: .started, attempt: 1))
        #expect(a != AuditEvent.id(jobID: "j1", type: .started, attempt: 2))
        #expect(a != AuditEvent.id(jobID: "j1", type: .succeeded, attempt: 1))
        #expect(DerivedID.make("ab", "c") != DerivedID.make("a", "bc"))
        #expect(UUIDv7.isWellFormed(a))
        #expect(Array(a)[14] == "8")
        let event = AuditEvent(type: .started, tenant: "t", jobID: "j1", attempt: 1, atMs: 5, actor: "x")
        #expect(event.id == a, "a redelivered job.started carries the same id")
    }

    @Test("truncation keeps whole scalars within the byte budget and marks the cut")
    func truncation() {
        #expect(Truncation.prefix("short", maxBytes: 100) == "short")
        let cut = Truncation.prefix(String(repeating: "é", count: 1_000), maxBytes: 101)
        #expect(cut.utf8.count <= 101)
        #expect(cut.hasSuffix("[truncated, 2000 bytes in all]"))
        #expect(Truncation.prefix(cut, maxBytes: 101) == cut, "cutting again changes nothing")
    }
}
