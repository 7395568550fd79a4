import SluiceCore
import SluiceHTTP
import Testing

@testable import Workers

/// Each adapter against its provider's documented request, response and error bodies
/// (`Fixtures/<provider>/`): canonical request → dialect body, documented answer → canonical
/// chat completion, error bodies → the right outcome with the provider's message.
@Suite("Provider adapters: documented shapes")
struct ProviderAdapterFixtureTests {
    // MARK: - OpenAI

    @Test("OpenAI: the canonical request goes out as is, with the upstream model and a bearer key")
    func openAIRequest() throws {
        let request = try OpenAIChatAdapter().request(
            for: Fixture.job("canonical/request-tools.json"), deployment: Fixture.deployment(kind: "openai", model: "gpt-4o-mini-2024-07-18"),
            timeoutMs: 5_000)
        #expect(request.url == "https://api.example.com/v1/chat/completions")
        #expect(request.headers.first(named: "authorization") == "Bearer sk-test")
        #expect(request.headers.first(named: "x-sluice-job-id") == "job-1")
        #expect(try body(request) == Fixture.json("openai/request-tools.json"))
    }

    @Test("OpenAI: a documented tool-call answer is the canonical answer, usage included")
    func openAIResponse() throws {
        let outcome = OpenAIChatAdapter().interpret(try Fixture.response(200, "openai/response-tools.json"))
        #expect(outcome.successResponse == (try Fixture.json("openai/response-tools.json")))
        #expect(outcome.successUsage == Usage(promptTokens: 82, completionTokens: 17, totalTokens: 99))
    }

    @Test("OpenAI: errors keep the provider's message; only what can pass is retried", arguments: [
        (400, "openai/error-context-length.json", false, "context_length_exceeded", "maximum context length is 128000 tokens"),
        (429, "openai/error-rate-limit.json", true, "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini"),
        (429, "openai/error-insufficient-quota.json", false, "insufficient_quota", "You exceeded your current quota"),
        (401, "openai/error-invalid-key.json", false, "invalid_api_key", "Incorrect API key provided"),
        (500, "openai/error-server.json", true, "server_error", "The server had an error"),
        (503, "openai/error-server.json", true, "server_error", "The server had an error"),
    ])
    func openAIErrors(status: Int, path: String, retriable: Bool, code: String, message: String) throws {
        let outcome = OpenAIChatAdapter().interpret(try Fixture.response(status, path))
        let error = try #require(retriable ? outcome.retriableError?.error : outcome.permanentError, "\(outcome)")
        #expect(error.code == code)
        #expect(error.message.contains(message))
        #expect(error.providerStatus == status)
    }

    // MARK: - Azure OpenAI

    @Test("Azure: the deployment goes in the path with the api-version; api-key header; no model in the body")
    func azureRequest() throws {
        var deployment = Fixture.deployment(kind: "azure", model: "my-4o mini/eu", baseURL: "https://contoso.openai.azure.com")
        let job = try Fixture.job("canonical/request-tools.json")
        var request = try AzureOpenAIAdapter().request(for: job, deployment: deployment, timeoutMs: 5_000)
        #expect(request.url == "https://contoso.openai.azure.com/openai/deployments/my-4o%20mini%2Feu/chat/completions?api-version=2024-10-21")
        #expect(request.headers.first(named: "api-key") == "sk-test")
        #expect(request.headers.first(named: "authorization") == nil)
        var expected = try Fixture.json("openai/request-tools.json").objectValue ?? [:]
        expected.removeValue(forKey: "model")
        #expect(try body(request) == .object(expected))

        deployment.apiVersion = "2025-04-01-preview"
        request = try AzureOpenAIAdapter().request(for: job, deployment: deployment, timeoutMs: 5_000)
        #expect(request.url.hasSuffix("?api-version=2025-04-01-preview"))
    }

    @Test("Azure: a documented answer with content-filter results is passed on; its errors read as OpenAI's")
    func azureResponseAndErrors() throws {
        let adapter = AzureOpenAIAdapter()
        let outcome = adapter.interpret(try Fixture.response(200, "azure/response.json"))
        #expect(outcome.successResponse?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "Paris is cloudy at 18 degrees.")
        #expect(outcome.successUsage == Usage(promptTokens: 41, completionTokens: 9, totalTokens: 50))

        let filtered = try #require(adapter.interpret(try Fixture.response(400, "azure/error-content-filter.json")).permanentError)
        #expect(filtered.code == "content_filter")
        #expect(filtered.message.contains("content management policy"))

        let limited = try #require(adapter.interpret(try Fixture.response(
            429, "azure/error-rate-limit.json", headers: [HTTPHeader("retry-after-ms", "6000"), HTTPHeader("retry-after", "6")])).retriableError)
        #expect(limited.retryAfterMs == 6_000)
        #expect(limited.error.message.contains("exceeded token rate limit"))
    }

    // MARK: - Anthropic

    @Test("Anthropic: the canonical request becomes a Messages request", arguments: [
        ("canonical/request-tools.json", "anthropic/request-tools.json"),
        ("canonical/request-json.json", "anthropic/request-json.json"),
    ])
    func anthropicRequest(canonical: String, expected: String) throws {
        let request = try AnthropicMessagesAdapter().request(
            for: Fixture.job(canonical), deployment: Fixture.deployment(kind: "anthropic", model: "claude-sonnet-4-5"), timeoutMs: 5_000)
        #expect(request.url == "https://api.example.com/v1/messages")
        #expect(request.headers.first(named: "x-api-key") == "sk-test")
        #expect(request.headers.first(named: "anthropic-version") == "2023-06-01")
        #expect(try body(request) == Fixture.json(expected))
    }

    @Test("Anthropic: without max tokens in the job, the provider's default_max_tokens is sent")
    func anthropicDefaultMaxTokens() throws {
        var deployment = Fixture.deployment(kind: "anthropic", model: "claude-haiku-4-5")
        deployment.defaultMaxTokens = 777
        let job = Fixture.job(request: ["model": "m", "messages": [["role": "user", "content": "Hi."]]])
        let request = try AnthropicMessagesAdapter().request(for: job, deployment: deployment, timeoutMs: 5_000)
        #expect(try body(request)["max_tokens"] == .int(777))
    }

    @Test("Anthropic: text and tool_use blocks become content and tool_calls; stop_reason and usage map")
    func anthropicResponse() throws {
        let adapter = AnthropicMessagesAdapter(clock: WallClock { 1_700_000_000_000 })
        let outcome = adapter.interpret(try Fixture.response(200, "anthropic/response-tools.json"))
        let response = try #require(outcome.successResponse)
        let choice = try #require(response["choices"]?.arrayValue?.first)
        #expect(response["object"] == "chat.completion")
        #expect(response["id"] == "msg_01Aq9w938a90dw8q")
        #expect(response["model"] == "claude-sonnet-4-5-20250929")
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == "I'll check the current weather in Paris for you.")
        let call = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(call["id"] == "toolu_01A09q90qw90lq917835lq9")
        #expect(call["function"]?["name"] == "get_weather")
        let arguments = try JSONValue.parse(Array((call["function"]?["arguments"]?.stringValue ?? "").utf8))
        #expect(arguments == ["location": "Paris, France", "unit": "celsius"])
        // Prompt tokens count cache writes and reads too: 472 + 100 + 28.
        #expect(outcome.successUsage == Usage(promptTokens: 600, completionTokens: 89, totalTokens: 689))
        #expect(response["usage"]?["total_tokens"] == .int(689))

        let cut = adapter.interpret(try Fixture.response(200, "anthropic/response-max-tokens.json")).successResponse
        #expect(cut?["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(cut?["choices"]?.arrayValue?.first?["message"]?["content"] == "Hi! My name is Claude, and I")
    }

    @Test("Anthropic: errors keep the provider's message; 529 overloaded is retried, prompt too long is not", arguments: [
        (400, "anthropic/error-prompt-too-long.json", false, "context_length_exceeded", "prompt is too long"),
        (529, "anthropic/error-overloaded.json", true, "overloaded_error", "Overloaded"),
        (429, "anthropic/error-rate-limit.json", true, "rate_limit_error", "would exceed the rate limit"),
        (401, "anthropic/error-authentication.json", false, "authentication_error", "invalid x-api-key"),
    ])
    func anthropicErrors(status: Int, path: String, retriable: Bool, code: String, message: String) throws {
        let outcome = AnthropicMessagesAdapter().interpret(try Fixture.response(status, path, headers: [HTTPHeader("retry-after", "3")]))
        let error = try #require(retriable ? outcome.retriableError?.error : outcome.permanentError, "\(outcome)")
        #expect(error.code == code)
        #expect(error.message.contains(message))
        if retriable { #expect(outcome.retriableError?.retryAfterMs == 3_000) }
    }

    // MARK: - Gemini

    @Test("Gemini: the canonical request becomes a generateContent request", arguments: [
        ("canonical/request-tools.json", "gemini/request-tools.json"),
        ("canonical/request-json.json", "gemini/request-json.json"),
    ])
    func geminiRequest(canonical: String, expected: String) throws {
        let request = try GeminiGenerateContentAdapter().request(
            for: Fixture.job(canonical),
            deployment: Fixture.deployment(kind: "gemini", model: "gemini-2.5-flash", baseURL: "https://generativelanguage.googleapis.com/v1beta"),
            timeoutMs: 5_000)
        #expect(request.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")
        #expect(request.headers.first(named: "x-goog-api-key") == "sk-test")
        #expect(try body(request) == Fixture.json(expected))
    }

    @Test("Gemini: a functionCall part is a tool call; finish reasons and usage map (thinking counts as completion)")
    func geminiResponse() throws {
        let adapter = GeminiGenerateContentAdapter(clock: WallClock { 1_700_000_000_000 })
        let call = try #require(adapter.interpret(try Fixture.response(200, "gemini/response-function-call.json")).successResponse)
        let choice = try #require(call["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        let toolCall = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(toolCall["function"]?["name"] == "get_weather")
        #expect(try JSONValue.parse(Array((toolCall["function"]?["arguments"]?.stringValue ?? "").utf8)) == ["location": "Paris, France", "unit": "celsius"])
        #expect(call["model"] == "gemini-2.5-flash")
        #expect(call["usage"] == ["prompt_tokens": 55, "completion_tokens": 7, "total_tokens": 62])

        let cut = adapter.interpret(try Fixture.response(200, "gemini/response-max-tokens.json"))
        #expect(cut.successResponse?["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(cut.successResponse?["choices"]?.arrayValue?.first?["message"]?["content"] == "Once upon a time, in a land far")
        #expect(cut.successUsage == Usage(promptTokens: 8, completionTokens: 50, totalTokens: 58))

        let blocked = adapter.interpret(try Fixture.response(200, "gemini/response-safety.json")).successResponse
        #expect(blocked?["choices"]?.arrayValue?.first?["finish_reason"] == "content_filter")
    }

    @Test("Gemini: errors keep the provider's message; RESOURCE_EXHAUSTED is retried after its RetryInfo delay", arguments: [
        (400, "gemini/error-token-limit.json", false, "context_length_exceeded", "exceeds the maximum number of tokens"),
        (429, "gemini/error-resource-exhausted.json", true, "RESOURCE_EXHAUSTED", "You exceeded your current quota"),
        (403, "gemini/error-permission-denied.json", false, "PERMISSION_DENIED", "unregistered callers"),
        (503, "gemini/error-unavailable.json", true, "UNAVAILABLE", "The model is overloaded"),
    ])
    func geminiErrors(status: Int, path: String, retriable: Bool, code: String, message: String) throws {
        let outcome = GeminiGenerateContentAdapter().interpret(try Fixture.response(status, path))
        let error = try #require(retriable ? outcome.retriableError?.error : outcome.permanentError, "\(outcome)")
        #expect(error.code == code)
        #expect(error.message.contains(message))
        if status == 429 { #expect(outcome.retriableError?.retryAfterMs == 38_000) }
    }

    // MARK: - What a dialect cannot carry

    @Test("a request a dialect cannot express fails before anything is sent, saying why", arguments: [
        ("anthropic", #"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#, "'n' > 1"),
        ("anthropic", #"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.5}"#, "temperature"),
        ("anthropic", #"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#, "json_object"),
        ("anthropic", #"{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]}"#, "input_audio"),
        ("gemini", #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}"#, "data URLs"),
        ("gemini", #"{"model":"m","messages":[{"role":"tool","tool_call_id":"call_x","content":"{}"}]}"#, "call_x"),
        ("gemini", #"{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"50256":-100}}"#, "logit_bias"),
        ("gemini", #"{"model":"m","messages":[{"role":"user","content":"x"}],"n":3}"#, "'n' > 1"),
        ("gemini", #"{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}"#, "without user"),
    ])
    func inexpressible(kind: String, request: String, mentions: String) throws {
        let adapter = try #require(ProviderAdapters.adapter(for: kind))
        let job = Fixture.job(request: try JSONValue.parse(Array(request.utf8)))
        let error = #expect(throws: JobError.self) {
            try adapter.request(for: job, deployment: Fixture.deployment(kind: kind, model: "m"), timeoutMs: 1_000)
        }
        #expect(error?.type == "invalid_request_error")
        #expect(error?.message.contains(mentions) == true, "\(error?.message ?? "")")
    }

    @Test("every configured kind has an adapter, and aliases pick the right one")
    func kinds() {
        for kind in ProviderConfiguration.kinds { #expect(ProviderAdapters.adapter(for: kind) != nil, "\(kind)") }
        #expect(ProviderAdapters.adapter(for: "vllm") is OpenAIChatAdapter)
        #expect(ProviderAdapters.adapter(for: "azure") is AzureOpenAIAdapter)
        #expect(ProviderAdapters.adapter(for: "anthropic") is AnthropicMessagesAdapter)
        #expect(ProviderAdapters.adapter(for: "gemini") is GeminiGenerateContentAdapter)
        #expect(ProviderAdapters.adapter(for: "bedrock") == nil)
    }

    @Test("a 2xx answer in no dialect's shape is a retriable invalid_response, in every dialect")
    func brokenSuccess() {
        let truncated = HTTPClientResponse(status: 200, body: Array(#"{"id":"x","choi"#.utf8))
        let adapters: [any ProviderAdapter] = [OpenAIChatAdapter(), AzureOpenAIAdapter(), AnthropicMessagesAdapter(), GeminiGenerateContentAdapter()]
        for adapter in adapters {
            #expect(adapter.interpret(truncated).retriableError?.error.code == "invalid_response", "\(type(of: adapter))")
        }
    }
}
