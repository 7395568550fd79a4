import Foundation
import SluiceCore

/// A `POST /v1/jobs` body that passed validation.
struct JobRequest: Sendable {
    var model: String
    var priority: Priority
    /// The chat-completions body to send to the provider: the client's fields minus Sluice's own.
    var request: JSONValue
    var webhook: JobEnvelope.Webhook?
    var metadata: JSONValue?
    var deadlineMs: Int64?
}

/// Checks a job body and names the first field at fault.
///
/// Bodies are OpenAI chat-completions requests plus Sluice's own fields (`priority`, `webhook`,
/// `metadata`, `deadline`); `input` (a string or a list of messages) is accepted instead of
/// `messages`, as in the Responses API.
struct JobRequestValidator: Sendable {
    /// Model names clients may ask for.
    var models: Set<String>
    var defaultPriority: Priority = .p1
    /// Largest `max_tokens` / `max_completion_tokens`; `ingress.max_output_tokens`.
    var maxOutputTokens: Int64
    /// How far past now a `deadline` may lie; `ingress.max_deadline_ahead_seconds` in ms.
    var maxDeadlineAheadMs: Int64
    /// `ingress.max_messages`, `ingress.max_string_bytes`, `ingress.max_json_depth`.
    var maxMessages: Int = 2_048
    var maxStringBytes: Int = 262_144
    var maxJSONDepth: Int = 32

    /// The limits of `configuration`, converted without trapping on any configured value.
    init(models: Set<String>, configuration: IngressConfiguration) {
        self.models = models
        maxOutputTokens = Int64(clamping: configuration.maxOutputTokens)
        let aheadMs = Int64(clamping: configuration.maxDeadlineAheadSeconds).multipliedReportingOverflow(by: 1000)
        maxDeadlineAheadMs = aheadMs.overflow ? Int64.max : aheadMs.partialValue
        maxMessages = configuration.maxMessages
        maxStringBytes = configuration.maxStringBytes
        maxJSONDepth = configuration.maxJSONDepth
    }

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]
    static let sluiceFields: Set<String> = ["priority", "webhook", "metadata", "deadline", "input"]
    static let maxMetadataKeys = 16
    static let maxMetadataValueLength = 512

    func validate(_ body: [UInt8], nowMs: Int64) throws(APIError) -> JobRequest {
        let value: JSONValue
        do {
            // A duplicate key could mean one thing to this check and another to the provider.
            value = try JSONValue.parse(body, rejectingDuplicateKeys: true)
        } catch {
            throw .invalidRequest(
                "The request body is not valid JSON: \(error).", param: error.path.isEmpty ? nil : error.path, code: "invalid_json"
            )
        }
        guard case .object(var fields) = value else {
            throw .invalidRequest("The request body must be a JSON object, not \(value.typeName).", code: "invalid_json")
        }
        try checkSizes(value)

        let model = try requireString(fields["model"], param: "model")
        guard models.contains(model) else {
            let known = models.sorted().joined(separator: ", ")
            throw .invalidRequest("The model '\(model)' is not served here. Available: \(known).", param: "model", code: "model_not_found")
        }

        if let stream = fields["stream"], stream != .bool(false), !stream.isNull {
            throw .invalidRequest("Streaming is not available for queued jobs; omit 'stream'.", param: "stream", code: "unsupported_value")
        }

        let messages: JSONValue
        switch (fields["messages"], fields["input"]) {
        case (let m?, nil):
            messages = m
            try validateMessages(m, param: "messages")
        case (nil, .string(let text)?):
            guard !text.isEmpty else { throw .invalidRequest("'input' must not be empty.", param: "input", code: "empty_value") }
            messages = .array([["role": "user", "content": .string(text)]])
        case (nil, let m?):
            messages = m
            try validateMessages(m, param: "input")
        case (.some, .some):
            throw .invalidRequest("Send either 'messages' or 'input', not both.", param: "input")
        case (nil, nil):
            throw .invalidRequest("'messages' is required: a non-empty array of {role, content}.", param: "messages", code: "missing_required_parameter")
        }

        let priority = try parsePriority(fields["priority"])
        let webhook = try parseWebhook(fields["webhook"])
        let metadata = try parseMetadata(fields["metadata"])
        let deadlineMs = try parseDeadline(fields["deadline"], nowMs: nowMs)
        try validateParameters(fields)

        for key in Self.sluiceFields { fields.removeValue(forKey: key) }
        fields["messages"] = messages
        return JobRequest(
            model: model, priority: priority, request: .object(fields), webhook: webhook, metadata: metadata,
            deadlineMs: deadlineMs
        )
    }

    // MARK: - Fields

    private func requireString(_ value: JSONValue?, param: String) throws(APIError) -> String {
        guard let value, !value.isNull else {
            throw .invalidRequest("'\(param)' is required.", param: param, code: "missing_required_parameter")
        }
        guard case .string(let s) = value else {
            throw .invalidRequest("'\(param)' must be a string, not \(value.typeName).", param: param, code: "invalid_type")
        }
        guard !s.isEmpty else { throw .invalidRequest("'\(param)' must not be empty.", param: param, code: "empty_value") }
        return s
    }

    private func validateMessages(_ value: JSONValue, param: String) throws(APIError) {
        guard case .array(let messages) = value else {
            throw .invalidRequest("'\(param)' must be an array of messages, not \(value.typeName).", param: param, code: "invalid_type")
        }
        guard !messages.isEmpty else {
            throw .invalidRequest("'\(param)' must contain at least one message.", param: param, code: "empty_value")
        }
        for (i, message) in messages.enumerated() {
            let at = "\(param)[\(i)]"
            guard case .object(let m) = message else {
                throw .invalidRequest("'\(at)' must be an object with 'role' and 'content'.", param: at, code: "invalid_type")
            }
            let role = try requireString(m["role"], param: "\(at).role")
            guard Self.roles.contains(role) else {
                let allowed = Self.roles.sorted().joined(separator: ", ")
                throw .invalidRequest("'\(at).role' is '\(role)'; it must be one of: \(allowed).", param: "\(at).role")
            }
            try validateContent(m["content"], role: role, hasToolCalls: m["tool_calls"] != nil, param: "\(at).content")
        }
    }

    private func validateContent(_ content: JSONValue?, role: String, hasToolCalls: Bool, param: String) throws(APIError) {
        switch content {
        case .string?:
            return
        case .array(let parts)?:
            guard !parts.isEmpty else { throw .invalidRequest("'\(param)' must not be an empty array.", param: param, code: "empty_value") }
            for (j, part) in parts.enumerated() where part["type"]?.stringValue == nil {
                throw .invalidRequest("'\(param)[\(j)]' must be an object with a 'type'.", param: "\(param)[\(j)]")
            }
        case nil, .null?:
            // An assistant turn that only calls tools has no content.
            if role == "assistant" && hasToolCalls { return }
            throw .invalidRequest("'\(param)' is required.", param: param, code: "missing_required_parameter")
        case let other?:
            throw .invalidRequest("'\(param)' must be a string or an array of parts, not \(other.typeName).", param: param, code: "invalid_type")
        }
    }

    private func parsePriority(_ value: JSONValue?) throws(APIError) -> Priority {
        guard let value, !value.isNull else { return defaultPriority }
        guard case .string(let s) = value, let p = Priority(parsing: s) else {
            throw .invalidRequest("'priority' must be one of p0, p1, p2 (or interactive, default, bulk).", param: "priority")
        }
        return p
    }

    private func parseWebhook(_ value: JSONValue?) throws(APIError) -> JobEnvelope.Webhook? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let w) = value else {
            throw .invalidRequest("'webhook' must be an object like {\"url\": \"https://…\"}.", param: "webhook", code: "invalid_type")
        }
        let url = try requireString(w["url"], param: "webhook.url")
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "https" || scheme == "http",
            parsed.host?.isEmpty == false
        else {
            throw .invalidRequest("'webhook.url' must be an absolute http(s) URL.", param: "webhook.url")
        }
        return .init(url: url)
    }

    private func parseMetadata(_ value: JSONValue?) throws(APIError) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let m) = value else {
            throw .invalidRequest("'metadata' must be an object of string values.", param: "metadata", code: "invalid_type")
        }
        guard m.count <= Self.maxMetadataKeys else {
            throw .invalidRequest("'metadata' may have at most \(Self.maxMetadataKeys) keys.", param: "metadata")
        }
        // Sorted: a dictionary's order differs between instances, and the same body must always
        // be answered with the same field.
        for (key, v) in m.sorted(by: { $0.key < $1.key }) {
            guard case .string(let s) = v, s.count <= Self.maxMetadataValueLength else {
                throw .invalidRequest(
                    "'metadata.\(key)' must be a string of at most \(Self.maxMetadataValueLength) characters.",
                    param: "metadata.\(key)"
                )
            }
        }
        return value
    }

    /// Accepts Unix seconds or an ISO 8601 timestamp; it must lie in the future and at most
    /// `maxDeadlineAheadMs` ahead.
    ///
    /// Every conversion is checked: the seconds come from the client and `seconds * 1000` or a
    /// `Double` to `Int64` conversion out of range would trap the process.
    private func parseDeadline(_ value: JSONValue?, nowMs: Int64) throws(APIError) -> Int64? {
        guard let value, !value.isNull else { return nil }
        let latestMs = nowMs.addingReportingOverflow(maxDeadlineAheadMs)
        let latest = latestMs.overflow ? Int64.max : latestMs.partialValue
        let ms: Int64
        switch value {
        case .int(let seconds):
            let product = seconds.multipliedReportingOverflow(by: 1000)
            guard !product.overflow else { throw deadlineOutOfRange(seconds < 0) }
            ms = product.partialValue
        case .double(let seconds):
            ms = try milliseconds(seconds: seconds)
        case .string(let text):
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw .invalidRequest("'deadline' must be Unix seconds or an ISO 8601 time such as 2030-01-01T00:00:00Z.", param: "deadline")
            }
            ms = try milliseconds(seconds: date.timeIntervalSince1970)
        default:
            throw .invalidRequest("'deadline' must be Unix seconds or an ISO 8601 time.", param: "deadline", code: "invalid_type")
        }
        guard ms > nowMs else { throw deadlineOutOfRange(true) }
        guard ms <= latest else { throw deadlineOutOfRange(false) }
        return ms
    }

    /// Whole milliseconds of `seconds`, or the out-of-range error when they do not fit.
    private func milliseconds(seconds: Double) throws(APIError) -> Int64 {
        let ms = (seconds * 1000).rounded(.down)
        // Int64(exactly:) refuses nan, ±inf and anything beyond ±2^63 instead of trapping.
        guard let whole = Int64(exactly: ms) else { throw deadlineOutOfRange(!(ms > 0)) }
        return whole
    }

    private func deadlineOutOfRange(_ past: Bool) -> APIError {
        if past { return .invalidRequest("'deadline' is in the past.", param: "deadline") }
        return .invalidRequest(
            "'deadline' is too far ahead: at most \(maxDeadlineAheadMs / 1000) seconds from now. It is in Unix seconds, not milliseconds.",
            param: "deadline"
        )
    }
}
