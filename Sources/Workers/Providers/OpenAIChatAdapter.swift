import SluiceCore

/// Speaks OpenAI's chat-completions wire format (also vLLM, Ollama, Azure-style gateways and
/// any other OpenAI-compatible server).
struct OpenAIChatAdapter: ProviderAdapter {
    static let kinds: Set<String> = ["openai", "openai-compatible", "vllm", "ollama"]

    func request(for job: JobEnvelope, deployment route: ProviderDeployment, timeoutMs: Int) throws(JobError) -> HTTPClientRequest {
        var body = job.request.objectValue ?? [:]
        body["model"] = .string(route.upstreamModel)
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let key = route.apiKey { headers.append(HTTPHeader("Authorization", "Bearer \(key)")) }
        if let trace = job.traceparent { headers.append(HTTPHeader("traceparent", trace)) }
        // Lets a provider's (or the stub's) logs tie calls to jobs; the id is opaque.
        headers.append(HTTPHeader("X-Sluice-Job-Id", job.id))
        return HTTPClientRequest(
            method: "POST", url: route.baseURL + "/chat/completions", headers: headers,
            body: JSONValue.object(body).serialized(), timeoutMs: timeoutMs
        )
    }

    /// What an answer means for the job. Every part of it is untrusted: the body may be no
    /// JSON at all, megabytes long, or carry absurd numbers; none of that traps, and what is
    /// kept is bounded (see ``JobError``, ``Usage`` and ``RetryAfter``).
    func interpret(_ response: HTTPClientResponse) -> ProviderOutcome {
        let parsed = Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(response.body) }
        let json = try? parsed.get()
        switch response.status {
        case 200..<300:
            guard let json, json["choices"]?.arrayValue != nil else {
                let why: String
                if case .failure(let error) = parsed {
                    why = "with a body that is not JSON (\(error), \(response.body.count) bytes)"
                } else {
                    why = "without a chat completion (no 'choices' array)"
                }
                return .retriable(
                    JobError(type: "provider_error", code: "invalid_response", message: "The provider answered HTTP \(response.status) \(why).", providerStatus: response.status),
                    retryAfterMs: nil
                )
            }
            return .success(response: json, usage: Self.usage(json["usage"]))
        case 408, 409, 429, 500..<600:
            return .retriable(error(from: json, response: response), retryAfterMs: RetryAfter.milliseconds(in: response))
        default:
            return .permanent(error(from: json, response: response))
        }
    }

    /// OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: counts clamped to
    /// `0...Int32.max`, resets (`1s`, `6m0s`, `20ms`) to `0...RetryAfter.ceilingMs`; anything
    /// unreadable is left out.
    func rateLimits(in response: HTTPClientResponse) -> RateLimitSnapshot? {
        func count(_ name: String) -> Int? {
            guard let text = response.header(name), let value = Int64(text.filter { $0 != " " && $0 != "\t" }), value >= 0 else { return nil }
            return Int(min(value, Int64(Int32.max)))
        }
        func duration(_ name: String) -> Int? {
            response.header(name).flatMap(Self.durationMs)
        }
        let snapshot = RateLimitSnapshot(
            requestLimit: count("x-ratelimit-limit-requests"), requestsRemaining: count("x-ratelimit-remaining-requests"),
            requestsResetMs: duration("x-ratelimit-reset-requests"),
            tokenLimit: count("x-ratelimit-limit-tokens"), tokensRemaining: count("x-ratelimit-remaining-tokens"),
            tokensResetMs: duration("x-ratelimit-reset-tokens"))
        return snapshot.isEmpty ? nil : snapshot
    }

    /// A Go-style duration as OpenAI sends it (`1s`, `6m0s`, `1h2m3.5s`, `20ms`), in whole
    /// milliseconds rounded up, at most ``RetryAfter/ceilingMs``; nil for anything else.
    static func durationMs(_ text: String) -> Int? {
        var rest = Substring(text.filter { $0 != " " && $0 != "\t" })
        guard !rest.isEmpty else { return nil }
        var totalMs = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number), value.isFinite else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "h": totalMs += value * 3_600_000
            case "m": totalMs += value * 60_000
            case "s": totalMs += value * 1_000
            case "ms": totalMs += value
            default: return nil
            }
            guard totalMs < Double(RetryAfter.ceilingMs) else { return RetryAfter.ceilingMs }
        }
        return Int(totalMs.rounded(.up))
    }

    func interpret(_ error: any Error) -> ProviderOutcome {
        if let curl = error as? CurlError {
            if curl.isResponseTooLarge {
                // The same request would get the same answer: failing now saves the retries.
                return .permanent(JobError(type: "provider_error", code: "response_too_large", message: "The provider's answer was cut off: \(curl.message) (workers.max_response_bytes)."))
            }
            let code = curl.isTimeout ? "timeout" : curl.isConnectFailure ? "connection_failed" : "transport_error"
            let jobError = JobError(type: "provider_unreachable", code: code, message: curl.message)
            return curl.isRetriable ? .retriable(jobError, retryAfterMs: nil) : .permanent(jobError)
        }
        return .permanent(JobError(type: "internal_error", code: "request_build_failed", message: "\(error)"))
    }

    // MARK: - Parsing

    /// The provider's own error (OpenAI `{"error": {"message", "code", "type"}}`, a bare
    /// `{"error": "…"}`, vLLM's top-level `message`, FastAPI's `detail`), else a sentence with
    /// the status and the start of the body.
    private func error(from json: JSONValue?, response: HTTPClientResponse) -> JobError {
        let status = response.status
        let body = json?["error"]
        let message = body?["message"]?.stringValue ?? body?.stringValue ?? json?["message"]?.stringValue
            ?? json?["detail"]?.stringValue ?? Self.fallbackMessage(response, isJSON: json != nil)
        let code = body?["code"].flatMap(Self.text) ?? body?["type"]?.stringValue ?? "http_\(status)"
        let type: String
        switch status {
        case 401, 403: type = "provider_auth_error"
        case 429: type = "rate_limited"
        case 400, 404, 422: type = "invalid_request_error"
        default: type = "provider_error"
        }
        return JobError(type: type, code: code, message: message, providerStatus: status)
    }

    /// The first bytes of a body that carries no error message: a proxy's HTML page or plain
    /// text often says what went wrong. Only a short excerpt is decoded, never the whole body.
    private static func fallbackMessage(_ response: HTTPClientResponse, isJSON: Bool) -> String {
        guard !response.body.isEmpty else { return "The provider answered HTTP \(response.status) with an empty body." }
        let excerptBytes = 256
        var excerpt = String(decoding: response.body.prefix(excerptBytes), as: UTF8.self)
        if response.body.count > excerptBytes { excerpt += "…" }
        let kind = isJSON ? "JSON without an error message" : "a body that is not JSON"
        return "The provider answered HTTP \(response.status) with \(kind) (\(response.body.count) bytes): \(excerpt)"
    }

    /// A code as text: providers send strings (`"rate_limit_exceeded"`) or numbers (`429`).
    private static func text(_ value: JSONValue) -> String? {
        if let s = value.stringValue { return s }
        return value.intValue.map { String($0) }
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
