import SluiceCore
import SluiceHTTP

/// Speaks OpenAI's chat-completions wire format: OpenAI itself and any OpenAI-compatible server
/// (vLLM, Ollama, llama.cpp, Groq, Together, Mistral, DeepSeek, OpenRouter) by base URL.
///
/// The canonical request is this format, so it is sent as the job carries it, with the
/// deployment's upstream model name.
struct OpenAIChatAdapter: ProviderAdapter {
    static let kinds: Set<String> = [
        "openai", "openai-compatible", "vllm", "ollama", "llamacpp", "groq", "together", "mistral", "deepseek", "openrouter",
    ]

    func request(for job: JobEnvelope, deployment route: ProviderDeployment, timeoutMs: Int) throws(JobError) -> HTTPClientRequest {
        var body = job.request.objectValue ?? [:]
        body["model"] = .string(route.upstreamModel)
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let key = route.apiKey { headers.append(HTTPHeader("Authorization", "Bearer \(key)")) }
        headers += Self.jobHeaders(job)
        return HTTPClientRequest(
            method: "POST", url: route.baseURL + "/chat/completions", headers: headers,
            body: JSONValue.object(body).serialized(), timeoutMs: timeoutMs
        )
    }

    func interpret(_ response: HTTPClientResponse) -> ProviderOutcome {
        Self.interpretChatCompletion(response)
    }

    func rateLimits(in response: HTTPClientResponse) -> RateLimitSnapshot? {
        RateLimitHeaders.openAI(response)
    }

    func interpret(_ error: any Error) -> ProviderOutcome {
        ProviderFailure.outcome(transport: error)
    }

    // MARK: - Shared with Azure

    /// `traceparent` and `X-Sluice-Job-Id`: lets a provider's (or the stub's) logs tie calls to
    /// jobs; the id is opaque.
    static func jobHeaders(_ job: JobEnvelope) -> [HTTPHeader] {
        var headers: [HTTPHeader] = []
        if let trace = job.traceparent { headers.append(HTTPHeader("traceparent", trace)) }
        headers.append(HTTPHeader("X-Sluice-Job-Id", job.id))
        return headers
    }

    /// What an answer means for the job. Every part of it is untrusted: the body may be no
    /// JSON at all, megabytes long, or carry absurd numbers; none of that traps, and what is
    /// kept is bounded (see ``JobError``, ``Usage`` and ``RetryAfter``).
    static func interpretChatCompletion(_ response: HTTPClientResponse) -> ProviderOutcome {
        let parsed = ProviderFailure.parse(response)
        let json = try? parsed.get()
        guard (200..<300).contains(response.status) else {
            return ProviderFailure.outcome(response, json: json, reading: errorReading(json))
        }
        guard let json, json["choices"]?.arrayValue != nil else {
            return ProviderFailure.invalidSuccess(response, parsed: parsed, expected: "a chat completion (no 'choices' array)")
        }
        return .success(response: json, usage: usage(json["usage"]))
    }

    /// The provider's own error (OpenAI `{"error": {"message", "code", "type"}}`, a bare
    /// `{"error": "…"}`, vLLM's top-level `message`, FastAPI's `detail`).
    static func errorReading(_ json: JSONValue?) -> ProviderFailure.Reading {
        let body = json?["error"]
        let message = body?["message"]?.stringValue ?? body?.stringValue ?? json?["message"]?.stringValue ?? json?["detail"]?.stringValue
        let code = ProviderFailure.text(body?["code"]) ?? body?["type"]?.stringValue
        // OpenAI's `context_length_exceeded`; llama.cpp's `exceed_context_size_error` type.
        let contextCodes: Set<String> = ["context_length_exceeded", "exceed_context_size_error"]
        let isContextLength = code.map(contextCodes.contains) == true || body?["type"]?.stringValue.map(contextCodes.contains) == true
        // A 429 is either a rate limit (wait) or an exhausted quota (waiting does not help);
        // the error's type and code tell them apart, the status does not.
        let quotaCodes: Set<String> = [
            "insufficient_quota", "credit_balance_exhausted", "organization_spend_limit_exceeded",
            "project_spend_limit_exceeded", "organization_usage_limit_exceeded",
        ]
        let isQuota = code.map(quotaCodes.contains) == true || body?["type"]?.stringValue.map(quotaCodes.contains) == true
        return ProviderFailure.Reading(message: message, code: code, isContextLength: isContextLength, isQuotaExhausted: isQuota)
    }

    /// Token counts, clamped into ``Usage/tokenRange`` by `Usage` itself; nil when the counts
    /// are missing or not integers (`1e19` is not read as one).
    static func usage(_ json: JSONValue?) -> Usage? {
        guard let json, let prompt = json["prompt_tokens"]?.intValue, let completion = json["completion_tokens"]?.intValue else {
            return nil
        }
        return Usage(
            promptTokens: Int(clamping: prompt), completionTokens: Int(clamping: completion),
            totalTokens: json["total_tokens"]?.intValue.map { Int(clamping: $0) }
        )
    }
}
