import SluiceCore

/// A job's request (OpenAI chat-completions shape) read into typed parts, for the dialects that
/// must rebuild it (Anthropic, Gemini).
///
/// Ingress has checked ranges and types of the parameters it knows; this reads them again
/// because a job record may come from anywhere that can write to Kafka. Whatever cannot be
/// read, or has no equivalent in the target dialect, becomes a `JobError`: the job fails
/// before anything is sent, naming the field.
struct CanonicalRequest: Sendable {
    enum Part: Sendable, Equatable {
        case text(String)
        /// An `image_url` part: a `data:` URL or an `http(s)` URL.
        case image(url: String)
    }

    struct ToolCall: Sendable, Equatable {
        var id: String
        var name: String
        /// The arguments as the canonical request carries them: a JSON string.
        var arguments: String
    }

    struct Message: Sendable {
        /// `system`, `developer`, `user`, `assistant` or `tool`.
        var role: String
        var parts: [Part]
        var toolCalls: [ToolCall] = []
        /// For `tool` messages: the call this answers.
        var toolCallID: String?

        /// The text parts joined (system prompts and tool results are text in every dialect).
        var text: String {
            parts.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined(separator: "\n")
        }
    }

    struct Tool: Sendable {
        var name: String
        var description: String?
        /// A JSON Schema object; nil when the tool takes no parameters.
        var parameters: JSONValue?
    }

    enum ToolChoice: Sendable, Equatable {
        case auto, none, required
        case function(String)
    }

    enum ResponseFormat: Sendable, Equatable {
        case text, jsonObject
        case jsonSchema(name: String?, schema: JSONValue)
    }

    var messages: [Message] = []
    var tools: [Tool] = []
    var toolChoice: ToolChoice?
    var responseFormat: ResponseFormat?
    var temperature: Double?
    var topP: Double?
    /// `max_completion_tokens`, else `max_tokens`.
    var maxTokens: Int?
    var stop: [String] = []
    var seed: Int64?
    var n: Int?
    var presencePenalty: Double?
    var frequencyPenalty: Double?

    /// The fields whose presence this reader cannot honour in a rebuilt dialect; they fail the
    /// job rather than silently change what the client asked for.
    private static let unsupportedFields = ["logit_bias", "logprobs", "top_logprobs", "audio", "modalities", "prediction", "functions", "function_call"]

    /// - Parameter dialect: names the provider in error messages.
    init(_ request: JSONValue, dialect: String) throws(JobError) {
        guard case .object(let fields) = request else { throw Self.invalid("the job's request is not a JSON object") }
        for name in Self.unsupportedFields {
            if let value = fields[name], !value.isNull, value != .bool(false) {
                throw ProviderFailure.unsupported(dialect, "'\(name)' has no equivalent")
            }
        }
        guard let rawMessages = fields["messages"]?.arrayValue, !rawMessages.isEmpty else {
            throw Self.invalid("'messages' must be a non-empty array")
        }
        for (index, raw) in rawMessages.enumerated() {
            messages.append(try Self.message(raw, param: "messages[\(index)]", dialect: dialect))
        }
        if let rawTools = Self.present(fields["tools"]) {
            guard let array = rawTools.arrayValue else { throw Self.invalid("'tools' must be an array") }
            for (index, raw) in array.enumerated() {
                let param = "tools[\(index)]"
                guard raw["type"]?.stringValue ?? "function" == "function" else {
                    throw ProviderFailure.unsupported(dialect, "'\(param).type' must be 'function'")
                }
                guard let function = raw["function"], let name = function["name"]?.stringValue, !name.isEmpty else {
                    throw Self.invalid("'\(param).function.name' is required")
                }
                let parameters = Self.present(function["parameters"])
                if let parameters, parameters.objectValue == nil { throw Self.invalid("'\(param).function.parameters' must be an object") }
                tools.append(Tool(name: name, description: function["description"]?.stringValue, parameters: parameters))
            }
        }
        if let choice = Self.present(fields["tool_choice"]) {
            switch choice.stringValue {
            case "auto": toolChoice = .auto
            case "none": toolChoice = ToolChoice.none
            case "required": toolChoice = .required
            case nil:
                guard let name = choice["function"]?["name"]?.stringValue else { throw Self.invalid("'tool_choice' must be auto, none, required or {type: function, function: {name}}") }
                toolChoice = .function(name)
            case let other?: throw Self.invalid("'tool_choice' '\(other)' is not auto, none or required")
            }
        }
        if let format = Self.present(fields["response_format"]) {
            switch format["type"]?.stringValue {
            case "text": responseFormat = .text
            case "json_object": responseFormat = .jsonObject
            case "json_schema":
                guard let schema = format["json_schema"]?["schema"], schema.objectValue != nil else {
                    throw Self.invalid("'response_format.json_schema.schema' must be an object")
                }
                responseFormat = .jsonSchema(name: format["json_schema"]?["name"]?.stringValue, schema: schema)
            default: throw Self.invalid("'response_format.type' must be text, json_object or json_schema")
            }
        }
        temperature = try Self.number(fields["temperature"], "temperature", in: 0...2)
        topP = try Self.number(fields["top_p"], "top_p", in: 0...1)
        presencePenalty = try Self.number(fields["presence_penalty"], "presence_penalty", in: -2...2)
        frequencyPenalty = try Self.number(fields["frequency_penalty"], "frequency_penalty", in: -2...2)
        let maxCompletion = try Self.integer(fields["max_completion_tokens"], "max_completion_tokens", in: 1...Int64(Int32.max))
        let maxTokensField = try Self.integer(fields["max_tokens"], "max_tokens", in: 1...Int64(Int32.max))
        maxTokens = (maxCompletion ?? maxTokensField).map { Int($0) }
        n = try Self.integer(fields["n"], "n", in: 1...128).map { Int($0) }
        seed = try Self.integer(fields["seed"], "seed", in: Int64.min...Int64.max)
        switch Self.present(fields["stop"]) {
        case nil: break
        case .string(let s)?: stop = [s]
        case .array(let items)?:
            stop = try items.map { item throws(JobError) -> String in
                guard let s = item.stringValue else { throw Self.invalid("'stop' must be a string or an array of strings") }
                return s
            }
        default: throw Self.invalid("'stop' must be a string or an array of strings")
        }
    }

    // MARK: - Messages

    private static func message(_ raw: JSONValue, param: String, dialect: String) throws(JobError) -> Message {
        guard let role = raw["role"]?.stringValue else { throw invalid("'\(param).role' is required") }
        guard ["system", "developer", "user", "assistant", "tool"].contains(role) else {
            throw ProviderFailure.unsupported(dialect, "'\(param).role' '\(role)' has no equivalent")
        }
        var message = Message(role: role, parts: try parts(raw["content"], param: "\(param).content", dialect: dialect))
        if role == "tool" {
            guard let id = raw["tool_call_id"]?.stringValue else { throw invalid("'\(param).tool_call_id' is required for a tool message") }
            message.toolCallID = id
        }
        if let calls = present(raw["tool_calls"]) {
            guard role == "assistant", let array = calls.arrayValue else { throw invalid("'\(param).tool_calls' must be an array on an assistant message") }
            for (index, call) in array.enumerated() {
                let at = "\(param).tool_calls[\(index)]"
                guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue else {
                    throw invalid("'\(at)' needs an id and function.name")
                }
                let arguments = call["function"]?["arguments"]?.stringValue ?? "{}"
                message.toolCalls.append(ToolCall(id: id, name: name, arguments: arguments))
            }
        }
        return message
    }

    private static func parts(_ content: JSONValue?, param: String, dialect: String) throws(JobError) -> [Part] {
        switch content {
        case nil, .null?: return []
        case .string(let text)?: return [.text(text)]
        case .array(let items)?:
            var parts: [Part] = []
            for (index, item) in items.enumerated() {
                let at = "\(param)[\(index)]"
                switch item["type"]?.stringValue {
                case "text":
                    guard let text = item["text"]?.stringValue else { throw invalid("'\(at).text' must be a string") }
                    parts.append(.text(text))
                case "image_url":
                    guard let url = item["image_url"]?["url"]?.stringValue ?? item["image_url"]?.stringValue else {
                        throw invalid("'\(at).image_url.url' must be a string")
                    }
                    parts.append(.image(url: url))
                case let type?:
                    throw ProviderFailure.unsupported(dialect, "content part '\(at)' of type '\(type)' has no equivalent")
                case nil:
                    throw invalid("'\(at).type' is required")
                }
            }
            return parts
        case let other?:
            throw invalid("'\(param)' must be a string or an array of parts, not \(other.typeName)")
        }
    }

    // MARK: - Numbers

    private static func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    private static func number(_ value: JSONValue?, _ name: String, in range: ClosedRange<Double>) throws(JobError) -> Double? {
        guard let value = present(value) else { return nil }
        let number: Double
        switch value {
        case .int(let i): number = Double(i)
        case .double(let d): number = d
        default: throw invalid("'\(name)' must be a number")
        }
        guard number.isFinite, range.contains(number) else { throw invalid("'\(name)' must be between \(range.lowerBound) and \(range.upperBound)") }
        return number
    }

    private static func integer(_ value: JSONValue?, _ name: String, in range: ClosedRange<Int64>) throws(JobError) -> Int64? {
        guard let value = present(value) else { return nil }
        guard let i = value.intValue, range.contains(i) else { throw invalid("'\(name)' must be an integer between \(range.lowerBound) and \(range.upperBound)") }
        return i
    }

    private static func invalid(_ what: String) -> JobError {
        JobError(type: "invalid_request_error", code: "invalid_request", message: "The job's request is malformed: \(what).")
    }
}

// MARK: - Data URLs

extension CanonicalRequest {
    /// The media type and base64 payload of a `data:<type>;base64,<data>` URL, or nil for any
    /// other URL (including non-base64 data URLs, which no provider takes).
    static func dataURL(_ url: String) -> (mediaType: String, data: String)? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        let mediaType = String(header.dropLast(";base64".count))
        guard !mediaType.isEmpty else { return nil }
        return (mediaType, String(url[url.index(after: comma)...]))
    }
}
