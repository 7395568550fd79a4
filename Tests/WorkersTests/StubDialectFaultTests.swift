import SluiceCore
import SluiceHTTP
import StubHarness
import StubProvider
import Testing

/// The stub's knobs in every dialect: each answers at its real path with its real error body
/// for each status, cuts bodies short, and counts calls per job.
@Suite("Stub provider: faults in every dialect", .timeLimit(.minutes(1)))
struct StubDialectFaultTests {
    /// One dialect: where it answers and a minimal valid request.
    struct Dialect: Sendable, CustomTestStringConvertible {
        var name: String
        var path: String
        var body: String
        var testDescription: String { name }
    }

    static let dialects: [Dialect] = [
        Dialect(name: "openai", path: "/v1/chat/completions", body: #"{"model":"m","messages":[{"role":"user","content":"Hello there. More."}]}"#),
        Dialect(
            name: "azure", path: "/openai/deployments/my-dep/chat/completions?api-version=2024-10-21",
            body: #"{"messages":[{"role":"user","content":"Hello there. More."}]}"#),
        Dialect(name: "anthropic", path: "/v1/messages", body: #"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"Hello there. More."}]}"#),
        Dialect(name: "gemini", path: "/v1beta/models/m:generateContent", body: #"{"contents":[{"role":"user","parts":[{"text":"Hello there. More."}]}]}"#),
    ]

    /// The error type or status each dialect documents for a status.
    static func errorKind(_ dialect: String, _ body: JSONValue) -> String? {
        switch dialect {
        case "anthropic": body["error"]?["type"]?.stringValue
        case "gemini": body["error"]?["status"]?.stringValue
        default: body["error"]?["code"]?.stringValue ?? body["error"]?["type"]?.stringValue
        }
    }

    static let expectedKinds: [String: [Int: String]] = [
        "openai": [400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded", 500: "server_error", 503: "server_error", 529: "server_error"],
        "azure": [400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded", 500: "server_error", 503: "server_error", 529: "server_error"],
        "anthropic": [400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error", 500: "api_error", 503: "api_error", 529: "overloaded_error"],
        "gemini": [400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 529: "UNAVAILABLE"],
    ]

    @Test("each dialect answers at its real path; error_status gives each status its dialect's error body", arguments: dialects)
    func errorStatuses(dialect: Dialect) async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let ok = try await postJSON(client, base + dialect.path, dialect.body, headers: [HTTPHeader("X-Sluice-Job-Id", "ok")])
            #expect(ok.status == 200, "\(ok.bodyText)")
            for status in [400, 401, 429, 500, 503, 529] {
                let set = try await postJSON(client, base + "/stub/faults", #"{"error_rate": 1, "error_status": \#(status)}"#)
                #expect(set.status == 200)
                let response = try await postJSON(client, base + dialect.path, dialect.body, headers: [HTTPHeader("X-Sluice-Job-Id", "e\(status)")])
                #expect(response.status == status)
                #expect(Self.errorKind(dialect.name, try json(response)) == Self.expectedKinds[dialect.name]?[status], "\(status): \(response.bodyText)")
            }
            let calls = try json(try await client.execute(HTTPClientRequest(url: base + "/stub/calls")))
            #expect(calls["total"]?.intValue == 7)
            #expect(calls["calls"]?["ok"]?.intValue == 1)
            #expect(calls["calls"]?["e529"]?.intValue == 1)
        }
    }

    @Test("malformed_rate answers 200 with truncated JSON in every dialect", arguments: dialects)
    func malformed(dialect: Dialect) async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(faults: StubFaults(malformedRate: 1))) { base in
            let response = try await postJSON(client, base + dialect.path, dialect.body)
            #expect(response.status == 200)
            #expect(!response.body.isEmpty)
            #expect(throws: (any Error).self) { try JSONValue.parse(response.body) }
        }
    }

    @Test("Azure needs its api-version; the exponential latency knob is accepted and reported")
    func azureVersionAndKnobs() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let missing = try await postJSON(client, base + "/openai/deployments/d/chat/completions", Self.dialects[1].body)
            #expect(missing.status == 400)
            #expect(try json(missing)["error"]?["param"] == "api-version")
            let answer = try json(try await postJSON(client, base + Self.dialects[1].path, Self.dialects[1].body))
            #expect(answer["model"] == "my-dep")

            let set = try await postJSON(client, base + "/stub/faults", #"{"latency_distribution": "exponential", "latency_jitter_ms": 1}"#)
            #expect(try json(set)["latency_distribution"] == "exponential")
            #expect(try await postJSON(client, base + "/stub/faults", #"{"latency_distribution": "zipf"}"#).status == 400)
            #expect(try await postJSON(client, base + "/stub/faults", #"{"error_status": 399}"#).status == 400)
            #expect(try await postJSON(client, base + "/stub/faults", #"{"malformed_rate": 1.5}"#).status == 400)
        }
    }
}
