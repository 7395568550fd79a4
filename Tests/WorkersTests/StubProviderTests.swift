import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import StubHarness
import StubProvider
import Testing

// MARK: - Summary and tokens

@Suite("StubCompletion")
struct StubCompletionTests {
    @Test(arguments: [
        ("Sluice queues jobs. Workers call providers.", "Sluice queues jobs."),
        ("  Is it durable? Yes!", "Is it durable?"),
        ("Stop!", "Stop!"),
        ("3.14 is pi. Next sentence.", "3.14 is pi."),
        ("Wait?Not yet. Now.", "Wait?Not yet."),
        ("no terminator at all  ", "no terminator at all"),
        ("Line one.\nLine two.", "Line one."),
        ("   ", ""),
    ])
    func summaryIsTheFirstSentence(text: String, expected: String) {
        #expect(StubCompletion.summary(of: text) == expected)
    }

    @Test func tokensAreWordRunsPlusPunctuation() {
        #expect(StubCompletion.tokenCount("") == 0)
        #expect(StubCompletion.tokenCount("Hello, world!") == 4)
        #expect(StubCompletion.tokenCount("gpt-4o costs $2.50") == 8)  // gpt - 4o costs $ 2 . 50
        #expect(StubCompletion.tokenCount("  spaced   out  ") == 2)
    }
}

// MARK: - Dialects over a socket

@Suite("StubProvider", .timeLimit(.minutes(1)))
struct StubProviderTests {
    @Test func healthz() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let response = try await client.execute(.init(url: base + "/healthz"))
            #expect(response.status == 200)
        }
    }

    @Test func stopsOnGracefulShutdown() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        let logger = Logger(label: "stub-provider-test") { _ in SwiftLogNoOpLogHandler() }
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let service = StubProviderService(configuration: .init(port: 0), logger: logger) { announce.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let before = try await client.execute(.init(url: "http://127.0.0.1:\(port)/healthz"))
        #expect(before.status == 200)

        await group.triggerGracefulShutdown()
        try await running.value
        let error = await #expect(throws: CurlError.self) {
            try await client.execute(.init(url: "http://127.0.0.1:\(port)/healthz", timeoutMs: 2_000))
        }
        #expect(error?.isConnectFailure == true)
    }

    @Test func openAIAcceptsContentPartsAndNullAssistantContent() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let response = try await postJSON(
                client, base + "/v1/chat/completions",
                #"""
                {"model":"m","messages":[
                  {"role":"assistant","content":null,"tool_calls":[]},
                  {"role":"user","content":[{"type":"text","text":"Parts work. Really."},{"type":"image_url","image_url":{"url":"x"}}]}
                ]}
                """#)
            #expect(response.status == 200)
            let body = try json(response)
            #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "Parts work.")
            #expect(body["usage"]?["prompt_tokens"]?.intValue == 5)
            #expect(body["usage"]?["completion_tokens"]?.intValue == 3)
        }
    }

    @Test(arguments: [
        (#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
        (#"{"model":"m"}"#, "messages"),
        (#"{"model":"m","messages":[]}"#, "messages"),
        (#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#, "messages.[0].role"),
        (#"{"model":"m","messages":[{"role":"user","content":42}]}"#, "messages.[0].content"),
        (#"{"model":"m","messages":[{"role":"user"}]}"#, "messages.[0].content"),
    ])
    func openAIInvalidRequestsName(body: String, param: String) async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let response = try await postJSON(client, base + "/v1/chat/completions", body)
            #expect(response.status == 400)
            let error = try json(response)["error"]
            #expect(error?["type"] == "invalid_request_error")
            #expect(error?["param"] == .string(param))
            #expect(error?["code"] == .null)
        }
    }

    @Test func anthropicMessages() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let response = try await postJSON(
                client, base + "/v1/messages",
                #"""
                {"model":"claude-x","max_tokens":64,"system":"Be brief.",
                 "messages":[{"role":"user","content":[{"type":"text","text":"Anthropic works! More text."}]}]}
                """#,
                headers: [HTTPHeader("x-api-key", "k"), HTTPHeader("anthropic-version", "2023-06-01")])
            #expect(response.status == 200)
            let body = try json(response)
            #expect(body["type"] == "message")
            #expect(body["role"] == "assistant")
            #expect(body["model"] == "claude-x")
            #expect(body["stop_reason"] == "end_turn")
            #expect(body["content"]?.arrayValue?.first?["text"] == "Anthropic works!")
            #expect(body["usage"]?["input_tokens"]?.intValue == 9)  // "Be brief ." + "Anthropic works ! More text ."
            #expect(body["usage"]?["output_tokens"]?.intValue == 3)

            let bad = try await postJSON(client, base + "/v1/messages", #"{"model":"claude-x","messages":[]}"#)
            #expect(bad.status == 400)
            #expect(try json(bad)["type"] == "error")
            #expect(try json(bad)["error"]?["type"] == "invalid_request_error")
        }
    }

    @Test func geminiGenerateContent() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(rateLimitRate: 0)) { base in
            let response = try await postJSON(
                client, base + "/v1beta/models/gemini-2.0-flash:generateContent",
                #"{"contents":[{"role":"user","parts":[{"text":"Gemini works? Yes."}]}]}"#)
            #expect(response.status == 200)
            let body = try json(response)
            let candidate = body["candidates"]?.arrayValue?.first
            #expect(candidate?["content"]?["parts"]?.arrayValue?.first?["text"] == "Gemini works?")
            #expect(candidate?["content"]?["role"] == "model")
            #expect(candidate?["finishReason"] == "STOP")
            #expect(body["usageMetadata"]?["promptTokenCount"]?.intValue == 5)
            #expect(body["usageMetadata"]?["candidatesTokenCount"]?.intValue == 3)
            #expect(body["modelVersion"] == "gemini-2.0-flash")

            let bad = try await postJSON(client, base + "/v1beta/models/gemini-2.0-flash:generateContent", "{}")
            #expect(bad.status == 400)
            #expect(try json(bad)["error"]?["status"] == "INVALID_ARGUMENT")
            let unknown = try await postJSON(client, base + "/v1beta/models/gemini-2.0-flash:countTokens", "{}")
            #expect(unknown.status == 404)
        }
    }

    @Test func faultsApplyToEveryDialect() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(rateLimitRate: 1, retryAfterSeconds: 3)) { base in
            let anthropic = try await postJSON(client, base + "/v1/messages", "{}")
            #expect(anthropic.status == 429)
            #expect(anthropic.header("retry-after") == "3")
            #expect(try json(anthropic)["error"]?["type"] == "rate_limit_error")
            let gemini = try await postJSON(client, base + "/v1beta/models/g:generateContent", "{}")
            #expect(gemini.status == 429)
            #expect(try json(gemini)["error"]?["status"] == "RESOURCE_EXHAUSTED")
        }
    }
}
