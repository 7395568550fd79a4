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

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]
    static let sluiceFields: Set<String> = ["priority", "webhook", "metadata", "deadline", "input"]
    static let maxMetadataKeys = 16
    static let maxMetadataValueLength = 512

    func validate(_ body: [UInt8], nowMs: Int64) throws(APIError) -> JobRequest {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw .invalidRequest("The request body is not valid JSON: \(error).", code: "invalid_json")
        }
        guard case .object(var fields) = value else {
            throw .invalidRequest("The request body must be a JSON object, not \(value.typeName).", code: "invalid_json")
        }

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
        for (key, v) in m {
            guard case .string(let s) = v, s.count <= Self.maxMetadataValueLength else {
                throw .invalidRequest(
                    "'metadata.\(key)' must be a string of at most \(Self.maxMetadataValueLength) characters.",
                    param: "metadata.\(key)"
                )
            }
        }
        return value
    }

    /// Accepts Unix seconds or an ISO 8601 timestamp; it must lie in the future.
    private func parseDeadline(_ value: JSONValue?, nowMs: Int64) throws(APIError) -> Int64? {
        guard let value, !value.isNull else { return nil }
        let ms: Int64
        switch value {
        case .int(let seconds): ms = seconds * 1000
        case .double(let seconds): ms = Int64(seconds * 1000)
        case .string(let text):
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw .invalidRequest("'deadline' must be Unix seconds or an ISO 8601 time such as 2030-01-01T00:00:00Z.", param: "deadline")
            }
            ms = Int64(date.timeIntervalSince1970 * 1000)
        default:
            throw .invalidRequest("'deadline' must be Unix seconds or an ISO 8601 time.", param: "deadline", code: "invalid_type")
        }
        guard ms > nowMs else { throw .invalidRequest("'deadline' is in the past.", param: "deadline") }
        return ms
    }
}
