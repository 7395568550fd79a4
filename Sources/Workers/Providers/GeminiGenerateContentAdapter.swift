import SluiceCore
import SluiceHTTP

/// Google's Gemini API: `POST {base_url}/models/{model}:generateContent` with
/// `x-goog-api-key`.
///
/// The canonical request is rebuilt: system and developer messages become
/// `systemInstruction`; turns become `contents` with roles `user` and `model`; tool calls become
/// `functionCall` parts and tool answers `functionResponse` parts (Gemini matches them by
/// function name, found from the call id); sampling settings go to `generationConfig`. Images
/// must be inline (`data:` URLs); Gemini fetches no arbitrary URLs. Gemini sends no
/// rate-limit headers; a 429's `RetryInfo.retryDelay` is read as its retry hint.
struct GeminiGenerateContentAdapter: ProviderAdapter {
    static let kinds: Set<String> = ["gemini", "google"]
    private static let dialect = "Gemini generateContent"

    var clock: WallClock = .system

    func request(for job: JobEnvelope, deployment route: ProviderDeployment, timeoutMs: Int) throws(JobError) -> HTTPClientRequest {
        let body = try Self.body(for: CanonicalRequest(job.request, dialect: Self.dialect))
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let key = route.apiKey { headers.append(HTTPHeader("x-goog-api-key", key)) }
        headers += OpenAIChatAdapter.jobHeaders(job)
        var model = route.upstreamModel
        if model.hasPrefix("models/") { model.removeFirst("models/".count) }
        let url = "\(route.baseURL)/models/\(AzureOpenAIAdapter.pathSegment(model)):generateContent"
        return HTTPClientRequest(method: "POST", url: url, headers: headers, body: body.serialized(), timeoutMs: timeoutMs)
    }

    func interpret(_ response: HTTPClientResponse) -> ProviderOutcome {
        let parsed = ProviderFailure.parse(response)
        let json = try? parsed.get()
        guard (200..<300).contains(response.status) else {
            return ProviderFailure.outcome(response, json: json, reading: Self.errorReading(json))
        }
        guard let json, json["candidates"]?.arrayValue != nil || json["promptFeedback"] != nil else {
            return ProviderFailure.invalidSuccess(response, parsed: parsed, expected: "a GenerateContentResponse (no 'candidates')")
        }
        let completion = Self.completion(json, clock: clock)
        return .success(response: completion.json, usage: completion.usage)
    }

    func rateLimits(in response: HTTPClientResponse) -> RateLimitSnapshot? { nil }

    func interpret(_ error: any Error) -> ProviderOutcome {
        ProviderFailure.outcome(transport: error)
    }

    // MARK: - Request

    static func body(for request: CanonicalRequest) throws(JobError) -> JSONValue {
        // The canonical answer built here carries one choice; asking Gemini for more
        // (candidateCount) would bill for answers the result then drops.
        if let n = request.n, n > 1 { throw ProviderFailure.unsupported(dialect, "'n' > 1 (one answer per request)") }
        var system: [JSONValue] = []
        var contents: [(role: String, parts: [JSONValue])] = []
        var functionNames: [String: String] = [:]
        func append(_ role: String, _ parts: [JSONValue]) {
            guard !parts.isEmpty else { return }
            if let last = contents.last, last.role == role {
                contents[contents.count - 1].parts += parts
            } else {
                contents.append((role, parts))
            }
        }
        for (index, message) in request.messages.enumerated() {
            let param = "messages[\(index)]"
            switch message.role {
            case "system", "developer":
                for part in message.parts {
                    guard case .text(let text) = part else { throw ProviderFailure.unsupported(dialect, "'\(param)': a system instruction holds only text") }
                    system.append(["text": .string(text)])
                }
            case "user":
                append("user", try message.parts.map { part throws(JobError) in try Self.part(part, param: param) })
            case "assistant":
                var parts = try message.parts.map { part throws(JobError) in try Self.part(part, param: param) }
                for call in message.toolCalls {
                    functionNames[call.id] = call.name
                    let args = try AnthropicMessagesAdapter.arguments(call, param: param)
                    parts.append(["functionCall": ["name": .string(call.name), "args": args]])
                }
                append("model", parts)
            default:  // tool
                guard let id = message.toolCallID, let name = functionNames[id] else {
                    throw ProviderFailure.unsupported(dialect, "'\(param)' answers tool call '\(message.toolCallID ?? "")', which no earlier assistant message made")
                }
                // The response must be an object: a JSON object answer is sent as is, anything else wrapped.
                let text = message.text
                var response: JSONValue = ["content": .string(text)]
                if let parsed = try? JSONValue.parse(Array(text.utf8)), parsed.objectValue != nil { response = parsed }
                append("user", [["functionResponse": ["name": .string(name), "response": response]]])
            }
        }
        guard !contents.isEmpty else { throw ProviderFailure.unsupported(dialect, "a request without user or assistant messages") }
        var body: [String: JSONValue] = [
            "contents": .array(contents.map { ["role": .string($0.role), "parts": .array($0.parts)] }),
        ]
        if !system.isEmpty { body["systemInstruction"] = ["parts": .array(system)] }
        var config: [String: JSONValue] = [:]
        if let t = request.temperature { config["temperature"] = .double(t) }
        if let p = request.topP { config["topP"] = .double(p) }
        if let m = request.maxTokens { config["maxOutputTokens"] = .int(Int64(m)) }
        if !request.stop.isEmpty {
            guard request.stop.count <= 5 else { throw ProviderFailure.unsupported(dialect, "more than 5 stop sequences") }
            config["stopSequences"] = .array(request.stop.map(JSONValue.string))
        }
        if let seed = request.seed {
            // Gemini's seed is an int32.
            guard let s = Int32(exactly: seed) else { throw ProviderFailure.unsupported(dialect, "'seed' \(seed) outside 32-bit range") }
            config["seed"] = .int(Int64(s))
        }
        if let p = request.presencePenalty { config["presencePenalty"] = .double(p) }
        if let f = request.frequencyPenalty { config["frequencyPenalty"] = .double(f) }
        switch request.responseFormat {
        case nil, .text?: break
        case .jsonObject?: config["responseMimeType"] = "application/json"
        case .jsonSchema(_, let schema)?:
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = schema
        }
        if !config.isEmpty { body["generationConfig"] = .object(config) }
        if !request.tools.isEmpty {
            let declarations: [JSONValue] = request.tools.map { tool in
                var object: [String: JSONValue] = ["name": .string(tool.name)]
                if let description = tool.description { object["description"] = .string(description) }
                if let parameters = tool.parameters { object["parameters"] = parameters }
                return .object(object)
            }
            body["tools"] = [["functionDeclarations": .array(declarations)]]
        }
        switch request.toolChoice {
        case nil: break
        case .auto?: body["toolConfig"] = ["functionCallingConfig": ["mode": "AUTO"]]
        case .none?: body["toolConfig"] = ["functionCallingConfig": ["mode": "NONE"]]
        case .required?: body["toolConfig"] = ["functionCallingConfig": ["mode": "ANY"]]
        case .function(let name)?:
            body["toolConfig"] = ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": [.string(name)]]]
        }
        return .object(body)
    }

    private static func part(_ part: CanonicalRequest.Part, param: String) throws(JobError) -> JSONValue {
        switch part {
        case .text(let text):
            return ["text": .string(text)]
        case .image(let url):
            guard let data = CanonicalRequest.dataURL(url) else {
                throw ProviderFailure.unsupported(dialect, "'\(param)': images must be base64 data URLs")
            }
            return ["inlineData": ["mimeType": .string(data.mediaType), "data": .string(data.data)]]
        }
    }

    // MARK: - Response

    static func completion(_ json: JSONValue, clock: WallClock) -> CanonicalCompletion {
        let candidate = json["candidates"]?.arrayValue?.first
        var texts: [String] = []
        var calls: [CanonicalRequest.ToolCall] = []
        for part in candidate?["content"]?["parts"]?.arrayValue ?? [] {
            // Thought summaries are not the answer.
            if let text = part["text"]?.stringValue, part["thought"] != .bool(true) { texts.append(text) }
            if let call = part["functionCall"] {
                let args = call["args"] ?? [:]
                calls.append(.init(
                    id: call["id"]?.stringValue ?? "call_\(calls.count)", name: call["name"]?.stringValue ?? "",
                    arguments: String(decoding: args.serialized(), as: UTF8.self)))
            }
        }
        let native = candidate?["finishReason"]?.stringValue
            ?? json["promptFeedback"]?["blockReason"]?.stringValue.map { "BLOCKED_\($0)" }
        var reason = finishReason(native)
        if candidate == nil { reason = "content_filter" }  // the prompt itself was blocked
        if reason == "stop" && !calls.isEmpty { reason = "tool_calls" }  // Gemini ends a call with STOP
        return CanonicalCompletion(
            id: json["responseId"]?.stringValue ?? "", model: json["modelVersion"]?.stringValue ?? "", created: clock.nowMs() / 1_000,
            content: texts.isEmpty ? nil : texts.joined(), toolCalls: calls, finishReason: reason, nativeFinishReason: native,
            usage: usage(json["usageMetadata"]))
    }

    static func finishReason(_ reason: String?) -> String {
        switch reason {
        case "MAX_TOKENS": return "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
            return "content_filter"
        case let r? where r.hasPrefix("BLOCKED_"): return "content_filter"
        default: return "stop"  // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, …
        }
    }

    /// Completion tokens include thinking (`thoughtsTokenCount`), as OpenAI's include reasoning.
    static func usage(_ json: JSONValue?) -> Usage? {
        guard let json, let prompt = json["promptTokenCount"]?.intValue else { return nil }
        let bound = Int64(Usage.tokenRange.upperBound)
        let candidates = min(max(json["candidatesTokenCount"]?.intValue ?? 0, 0), bound)
        let thoughts = min(max(json["thoughtsTokenCount"]?.intValue ?? 0, 0), bound)
        return Usage(
            promptTokens: Int(clamping: prompt), completionTokens: Int(candidates + thoughts),
            totalTokens: json["totalTokenCount"]?.intValue.map { Int(clamping: $0) })
    }

    // MARK: - Errors

    /// `google.rpc.Status`: `{"error": {"code", "message", "status", "details"}}`.
    static func errorReading(_ json: JSONValue?) -> ProviderFailure.Reading {
        let error = json?["error"]
        let message = error?["message"]?.stringValue ?? error?.stringValue
        let status = error?["status"]?.stringValue
        let lower = message?.lowercased() ?? ""
        let isContextLength = status == "INVALID_ARGUMENT" && lower.contains("token") && (lower.contains("exceeds") || lower.contains("too long"))
        var retryMs: Int?
        for detail in error?["details"]?.arrayValue ?? [] where detail["@type"]?.stringValue?.hasSuffix("google.rpc.RetryInfo") == true {
            retryMs = RateLimitHeaders.duration(detail["retryDelay"]?.stringValue)
        }
        return ProviderFailure.Reading(message: message, code: status ?? ProviderFailure.text(error?["code"]), isContextLength: isContextLength, retryAfterMs: retryMs)
    }
}
