import SluiceCore

/// Speaks OpenAI's chat-completions wire format (also vLLM, Ollama, Azure-style gateways and
/// any other OpenAI-compatible server).
struct OpenAIChatAdapter: Sendable {
    static let kinds: Set<String> = ["openai", "openai-compatible", "vllm", "ollama"]

    var timeoutMs: Int

    func request(for job: JobEnvelope, route: ProviderRoute) -> HTTPClientRequest {
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

    func interpret(_ response: HTTPClientResponse) -> ProviderOutcome {
        let json = try? JSONValue.parse(response.body)
        switch response.status {
        case 200..<300:
            guard let json, json["choices"]?.arrayValue != nil else {
                return .retriable(
                    JobError(type: "provider_error", code: "invalid_response", message: "The provider answered \(response.status) without a chat completion.", providerStatus: response.status),
                    retryAfterMs: nil
                )
            }
            return .success(response: json, usage: Self.usage(json["usage"]))
        case 408, 409, 429, 500..<600:
            return .retriable(error(from: json, status: response.status), retryAfterMs: Self.retryAfterMs(response))
        default:
            return .permanent(error(from: json, status: response.status))
        }
    }

    func interpret(_ error: any Error) -> ProviderOutcome {
        if let curl = error as? CurlError {
            let code = curl.isTimeout ? "timeout" : curl.isConnectFailure ? "connection_failed" : "transport_error"
            let jobError = JobError(type: "provider_unreachable", code: code, message: curl.message)
            return curl.isRetriable ? .retriable(jobError, retryAfterMs: nil) : .permanent(jobError)
        }
        return .permanent(JobError(type: "internal_error", code: "request_build_failed", message: "\(error)"))
    }

    // MARK: - Parsing

    private func error(from json: JSONValue?, status: Int) -> JobError {
        let body = json?["error"]
        let message = body?["message"]?.stringValue ?? body?.stringValue ?? "The provider answered HTTP \(status)."
        let code = body?["code"]?.stringValue ?? body?["type"]?.stringValue ?? "http_\(status)"
        let type: String
        switch status {
        case 401, 403: type = "provider_auth_error"
        case 429: type = "rate_limited"
        case 400, 404, 422: type = "invalid_request_error"
        default: type = "provider_error"
        }
        return JobError(type: type, code: code, message: message, providerStatus: status)
    }

    static func usage(_ json: JSONValue?) -> Usage? {
        guard let json, let prompt = json["prompt_tokens"]?.intValue, let completion = json["completion_tokens"]?.intValue else {
            return nil
        }
        return Usage(promptTokens: Int(prompt), completionTokens: Int(completion), totalTokens: json["total_tokens"]?.intValue.map { Int($0) })
    }

    /// `retry-after-ms` (OpenAI, Azure) or `Retry-After` in seconds.
    static func retryAfterMs(_ response: HTTPClientResponse) -> Int? {
        if let ms = response.header("retry-after-ms").flatMap(Double.init) { return Int(ms) }
        if let s = response.header("retry-after").flatMap(Double.init) { return Int(s * 1000) }
        return nil
    }
}
