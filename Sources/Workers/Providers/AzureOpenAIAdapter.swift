import SluiceCore
import SluiceHTTP

/// Azure OpenAI: OpenAI's chat-completions body, sent to a deployment rather than a model.
///
/// `POST {base_url}/openai/deployments/{deployment}/chat/completions?api-version=…` with an
/// `api-key` header. The deployment picks the model, so the route's upstream model name is the
/// deployment's name and the body carries no `model`. Answers, errors and `x-ratelimit-*`
/// headers are OpenAI's (plus `retry-after-ms` on 429s, which ``RetryAfter`` reads).
struct AzureOpenAIAdapter: ProviderAdapter {
    static let kinds: Set<String> = ["azure", "azure-openai"]

    func request(for job: JobEnvelope, deployment route: ProviderDeployment, timeoutMs: Int) throws(JobError) -> HTTPClientRequest {
        var body = job.request.objectValue ?? [:]
        body.removeValue(forKey: "model")
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let key = route.apiKey { headers.append(HTTPHeader("api-key", key)) }
        headers += OpenAIChatAdapter.jobHeaders(job)
        let version = route.apiVersion ?? ProviderConfiguration.defaultAzureAPIVersion
        let url = "\(route.baseURL)/openai/deployments/\(Self.pathSegment(route.upstreamModel))/chat/completions?api-version=\(Self.pathSegment(version))"
        return HTTPClientRequest(method: "POST", url: url, headers: headers, body: JSONValue.object(body).serialized(), timeoutMs: timeoutMs)
    }

    func interpret(_ response: HTTPClientResponse) -> ProviderOutcome {
        OpenAIChatAdapter.interpretChatCompletion(response)
    }

    func rateLimits(in response: HTTPClientResponse) -> RateLimitSnapshot? {
        RateLimitHeaders.openAI(response)
    }

    func interpret(_ error: any Error) -> ProviderOutcome {
        ProviderFailure.outcome(transport: error)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters, so that a deployment name
    /// from the configuration cannot change the URL's path or query.
    static func pathSegment(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded
            }
        }
        return out
    }
}

extension String {
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}
