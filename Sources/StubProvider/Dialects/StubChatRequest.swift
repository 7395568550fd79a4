import SluiceCore

/// A chat request as the stub understands it, whichever provider's format it arrived in.
struct StubChatRequest: Sendable {
    struct Message: Sendable {
        var role: String
        /// The text parts of the message, joined by newlines; non-text parts are ignored.
        var text: String
    }

    var model: String
    var messages: [Message]

    /// The answer: the first sentence of the last user message, and usage over all messages.
    func complete() -> StubChatCompletion {
        let lastUser = messages.last { $0.role == "user" }?.text ?? ""
        let summary = StubCompletion.summary(of: lastUser)
        let promptTokens = messages.reduce(0) { $0 + StubCompletion.tokenCount($1.text) }
        return StubChatCompletion(summary: summary, promptTokens: promptTokens, completionTokens: StubCompletion.tokenCount(summary))
    }
}

/// What the stub "generated" for a request.
struct StubChatCompletion: Sendable {
    var summary: String
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int { promptTokens + completionTokens }
}

/// A request the stub rejects with 400, as a real provider would.
struct StubRequestError: Error, Sendable {
    var message: String
    /// The offending field, in the provider's notation (`messages.[0].content`), if one is to blame.
    var param: String?
}

/// Why the stub answers with an error instead of a completion.
enum StubFault: Sendable {
    /// 400, naming the bad field.
    case invalidRequest(StubRequestError)
    /// 429.
    case rateLimited(retryAfterSeconds: Int)
    /// Any other injected status (401, 403, 404, 408, 422, 500, 502, 503, 504, 529): each
    /// dialect answers with the error type and message its provider documents for it.
    case status(Int)

    /// The fault for an injected `error_status`.
    static func injected(_ status: Int, retryAfterSeconds: Int) -> StubFault {
        switch status {
        case 400:
            .invalidRequest(StubRequestError(message: "The stub provider was told to refuse this request (error_status 400).", param: nil))
        case 429: .rateLimited(retryAfterSeconds: retryAfterSeconds)
        default: .status(status)
        }
    }
}

// MARK: - Reading JSON

extension JSONValue {
    /// A required string field (non-empty unless `allowEmpty`), or a 400 naming it.
    func requiredString(_ key: String, param: String? = nil, allowEmpty: Bool = false) throws(StubRequestError) -> String {
        guard let value = self[key] else {
            throw StubRequestError(message: "Missing required parameter: '\(param ?? key)'.", param: param ?? key)
        }
        guard let string = value.stringValue, allowEmpty || !string.isEmpty else {
            throw StubRequestError(
                message: "Invalid type for '\(param ?? key)': expected \(allowEmpty ? "a" : "a non-empty") string, but got \(value.typeName) instead.",
                param: param ?? key)
        }
        return string
    }

    /// A required, non-empty array field, or a 400 naming it.
    func requiredArray(_ key: String) throws(StubRequestError) -> [JSONValue] {
        guard let value = self[key] else {
            throw StubRequestError(message: "Missing required parameter: '\(key)'.", param: key)
        }
        guard let array = value.arrayValue else {
            throw StubRequestError(
                message: "Invalid type for '\(key)': expected an array, but got \(value.typeName) instead.", param: key)
        }
        guard !array.isEmpty else {
            throw StubRequestError(message: "Invalid '\(key)': empty array. Expected an array with minimum length 1.", param: key)
        }
        return array
    }

    /// The text of a content field that is either a string or an array of blocks, where text
    /// blocks are `{"type": "text", "text": …}` (OpenAI and Anthropic share this shape).
    func textContent(param: String) throws(StubRequestError) -> String {
        switch self {
        case .string(let text):
            return text
        case .array(let blocks):
            var texts: [String] = []
            for (index, block) in blocks.enumerated() {
                let blockParam = "\(param).[\(index)]"
                guard case .object = block else {
                    throw StubRequestError(
                        message: "Invalid type for '\(blockParam)': expected an object, but got \(block.typeName) instead.",
                        param: blockParam)
                }
                let type = try block.requiredString("type", param: "\(blockParam).type")
                if type == "text" { texts.append(try block.requiredString("text", param: "\(blockParam).text", allowEmpty: true)) }
            }
            return texts.joined(separator: "\n")
        default:
            throw StubRequestError(
                message: "Invalid type for '\(param)': expected a string or an array of content parts, but got \(typeName) instead.",
                param: param)
        }
    }
}
