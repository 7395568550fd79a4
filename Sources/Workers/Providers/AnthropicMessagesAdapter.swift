import SluiceCore
import SluiceHTTP

/// Anthropic's Messages API: `POST {base_url}/messages` with `x-api-key` and
/// `anthropic-version: 2023-06-01`.
///
/// The canonical request is rebuilt: system and developer messages become the top-level
/// `system`; tool calls become `tool_use` blocks and tool answers `tool_result` blocks in a user
/// turn; consecutive turns of one role are merged (the API wants user and assistant to
/// alternate); `max_tokens`, which Anthropic requires, comes from the job or the provider's
/// `default_max_tokens`. What has no equivalent (`n` > 1, `temperature` above 1, JSON mode
/// without a schema, penalties) fails the job before anything is sent. `seed` is dropped:
/// OpenAI documents it as best effort, and Anthropic has none to honour it with.
struct AnthropicMessagesAdapter: ProviderAdapter {
    static let kinds: Set<String> = ["anthropic"]
    static let apiVersion = "2023-06-01"
    private static let dialect = "Anthropic Messages"

    /// Measures `anthropic-ratelimit-*-reset` times against this clock.
    var clock: WallClock = .system

    func request(for job: JobEnvelope, deployment route: ProviderDeployment, timeoutMs: Int) throws(JobError) -> HTTPClientRequest {
        let body = try Self.body(for: CanonicalRequest(job.request, dialect: Self.dialect), deployment: route)
        var headers = [HTTPHeader("Content-Type", "application/json"), HTTPHeader("anthropic-version", Self.apiVersion)]
        if let key = route.apiKey { headers.append(HTTPHeader("x-api-key", key)) }
        headers += OpenAIChatAdapter.jobHeaders(job)
        return HTTPClientRequest(method: "POST", url: route.baseURL + "/messages", headers: headers, body: body.serialized(), timeoutMs: timeoutMs)
    }

    func interpret(_ response: HTTPClientResponse) -> ProviderOutcome {
        let parsed = ProviderFailure.parse(response)
        let json = try? parsed.get()
        guard (200..<300).contains(response.status) else {
            return ProviderFailure.outcome(response, json: json, reading: Self.errorReading(json))
        }
        guard let json, json["type"]?.stringValue == "message", let blocks = json["content"]?.arrayValue else {
            return ProviderFailure.invalidSuccess(response, parsed: parsed, expected: "a message (type 'message' with a 'content' array)")
        }
        return .success(response: Self.completion(json, blocks: blocks, clock: clock).json, usage: Self.usage(json["usage"]))
    }

    func rateLimits(in response: HTTPClientResponse) -> RateLimitSnapshot? {
        RateLimitHeaders.anthropic(response, nowMs: clock.nowMs())
    }

    func interpret(_ error: any Error) -> ProviderOutcome {
        ProviderFailure.outcome(transport: error)
    }

    // MARK: - Request

    static func body(for request: CanonicalRequest, deployment: ProviderDeployment) throws(JobError) -> JSONValue {
        if let n = request.n, n > 1 { throw ProviderFailure.unsupported(dialect, "'n' > 1 (one answer per request)") }
        if let t = request.temperature, t > 1 { throw ProviderFailure.unsupported(dialect, "'temperature' \(t) is above its maximum of 1") }
        if (request.presencePenalty ?? 0) != 0 || (request.frequencyPenalty ?? 0) != 0 {
            throw ProviderFailure.unsupported(dialect, "presence and frequency penalties")
        }
        var system: [String] = []
        var turns: [(role: String, blocks: [JSONValue])] = []
        func append(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        for (index, message) in request.messages.enumerated() {
            switch message.role {
            case "system", "developer":
                for part in message.parts {
                    guard case .text(let text) = part else {
                        throw ProviderFailure.unsupported(dialect, "'messages[\(index)]': a system prompt holds only text")
                    }
                    system.append(text)
                }
            case "user":
                append("user", try message.parts.map { part throws(JobError) in try block(part, param: "messages[\(index)]") })
            case "assistant":
                var blocks = try message.parts.map { part throws(JobError) in try block(part, param: "messages[\(index)]") }
                for call in message.toolCalls {
                    let input = try arguments(call, param: "messages[\(index)]")
                    blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": input])
                }
                append("assistant", blocks)
            default:  // tool
                append("user", [["type": "tool_result", "tool_use_id": .string(message.toolCallID ?? ""), "content": .string(message.text)]])
            }
        }
        guard !turns.isEmpty else { throw ProviderFailure.unsupported(dialect, "a request without user or assistant messages") }
        var body: [String: JSONValue] = [
            "model": .string(deployment.upstreamModel),
            "max_tokens": .int(Int64(request.maxTokens ?? deployment.defaultMaxTokens)),
            "messages": .array(turns.map { turn in
                // A lone text block is sent as a plain string, the form the API's examples use.
                if turn.blocks.count == 1, turn.blocks[0]["type"]?.stringValue == "text", let text = turn.blocks[0]["text"] {
                    return ["role": .string(turn.role), "content": text]
                }
                return ["role": .string(turn.role), "content": .array(turn.blocks)]
            }),
        ]
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        if let t = request.temperature { body["temperature"] = .double(t) }
        if let p = request.topP { body["top_p"] = .double(p) }
        if !request.stop.isEmpty { body["stop_sequences"] = .array(request.stop.map(JSONValue.string)) }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                var object: [String: JSONValue] = [
                    "name": .string(tool.name),
                    "input_schema": tool.parameters ?? ["type": "object", "properties": [:]],
                ]
                if let description = tool.description { object["description"] = .string(description) }
                return .object(object)
            })
        }
        switch request.toolChoice {
        case nil: break
        case .auto?: body["tool_choice"] = ["type": "auto"]
        case .none?: body["tool_choice"] = ["type": "none"]
        case .required?: body["tool_choice"] = ["type": "any"]
        case .function(let name)?: body["tool_choice"] = ["type": "tool", "name": .string(name)]
        }
        switch request.responseFormat {
        case nil, .text?: break
        case .jsonObject?:
            throw ProviderFailure.unsupported(dialect, "'response_format' json_object (no JSON mode without a schema; send json_schema)")
        case .jsonSchema(_, let schema)?:
            body["output_config"] = ["format": ["type": "json_schema", "schema": schema]]
        }
        return .object(body)
    }

    private static func block(_ part: CanonicalRequest.Part, param: String) throws(JobError) -> JSONValue {
        switch part {
        case .text(let text):
            return ["type": "text", "text": .string(text)]
        case .image(let url):
            if let data = CanonicalRequest.dataURL(url) {
                return ["type": "image", "source": ["type": "base64", "media_type": .string(data.mediaType), "data": .string(data.data)]]
            }
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ProviderFailure.unsupported(dialect, "'\(param)': images must be base64 data URLs or http(s) URLs")
            }
            return ["type": "image", "source": ["type": "url", "url": .string(url)]]
        }
    }

    /// A tool call's arguments, a JSON string in the canonical form, as the object Anthropic wants.
    static func arguments(_ call: CanonicalRequest.ToolCall, param: String) throws(JobError) -> JSONValue {
        guard let value = try? JSONValue.parse(Array(call.arguments.utf8)), case .object = value else {
            throw JobError(
                type: "invalid_request_error", code: "invalid_request",
                message: "The job's request is malformed: '\(param)' tool call '\(call.id)' has arguments that are not a JSON object.")
        }
        return value
    }

    // MARK: - Response

    static func completion(_ json: JSONValue, blocks: [JSONValue], clock: WallClock) -> CanonicalCompletion {
        var texts: [String] = []
        var calls: [CanonicalRequest.ToolCall] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": if let text = block["text"]?.stringValue { texts.append(text) }
            case "tool_use":
                let input = block["input"] ?? [:]
                calls.append(.init(
                    id: block["id"]?.stringValue ?? "toolu_\(calls.count)", name: block["name"]?.stringValue ?? "",
                    arguments: String(decoding: input.serialized(), as: UTF8.self)))
            default: break  // thinking and server-tool blocks have no canonical place
            }
        }
        let stopReason = json["stop_reason"]?.stringValue
        return CanonicalCompletion(
            id: json["id"]?.stringValue ?? "", model: json["model"]?.stringValue ?? "", created: clock.nowMs() / 1_000,
            content: texts.isEmpty ? nil : texts.joined(), toolCalls: calls,
            finishReason: finishReason(stopReason), nativeFinishReason: stopReason, usage: usage(json["usage"]))
    }

    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"  // end_turn, stop_sequence, pause_turn
        }
    }

    /// Prompt tokens are all input tokens: those after the last cache breakpoint plus those
    /// written to and read from the cache.
    static func usage(_ json: JSONValue?) -> Usage? {
        guard let json, let input = json["input_tokens"]?.intValue, let output = json["output_tokens"]?.intValue else { return nil }
        let cacheWrite = max(0, json["cache_creation_input_tokens"]?.intValue ?? 0)
        let cacheRead = max(0, json["cache_read_input_tokens"]?.intValue ?? 0)
        // Each is clamped before the sum so that three huge counts cannot overflow.
        let bound = Int64(Usage.tokenRange.upperBound)
        let prompt = min(max(input, 0), bound) + min(cacheWrite, bound) + min(cacheRead, bound)
        return Usage(promptTokens: Int(prompt), completionTokens: Int(clamping: output))
    }

    // MARK: - Errors

    /// `{"type": "error", "error": {"type", "message"}}`.
    static func errorReading(_ json: JSONValue?) -> ProviderFailure.Reading {
        let error = json?["error"]
        let message = error?["message"]?.stringValue ?? error?.stringValue
        let type = error?["type"]?.stringValue
        let isContextLength = type == "invalid_request_error" && (message?.lowercased().contains("prompt is too long") ?? false)
        return ProviderFailure.Reading(message: message, code: type, isContextLength: isContextLength)
    }
}
