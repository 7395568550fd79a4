import Foundation
import SluiceCore

/// Anthropic's Messages format (`POST /v1/messages`).
struct AnthropicDialect: StubDialect {
    func parse(_ body: JSONValue, pathModel: String?) throws(StubRequestError) -> StubChatRequest {
        let model = try body.requiredString("model")
        // The real API insists on max_tokens; so does the stub, so adapters get it right here.
        guard let maxTokens = body["max_tokens"]?.intValue, maxTokens >= 1 else {
            throw StubRequestError(message: "Field required: a positive integer.", param: "max_tokens")
        }
        var messages: [StubChatRequest.Message] = []
        if let system = body["system"], !system.isNull {
            messages.append(.init(role: "system", text: try system.textContent(param: "system")))
        }
        for (index, message) in try body.requiredArray("messages").enumerated() {
            let param = "messages.\(index)"
            guard case .object = message else {
                throw StubRequestError(message: "Input should be a valid dictionary.", param: param)
            }
            let role = try message.requiredString("role", param: "\(param).role")
            guard role == "user" || role == "assistant" else {
                throw StubRequestError(message: "Input should be 'user' or 'assistant'.", param: "\(param).role")
            }
            guard let content = message["content"] else {
                throw StubRequestError(message: "Field required.", param: "\(param).content")
            }
            messages.append(.init(role: role, text: try content.textContent(param: "\(param).content")))
        }
        return StubChatRequest(model: model, messages: messages)
    }

    func answer(_ request: StubChatRequest, completion: StubChatCompletion) throws -> [UInt8] {
        let answer = Message(
            id: "msg_" + UUIDv7.generate().replacingOccurrences(of: "-", with: ""),
            model: request.model,
            content: [.init(text: completion.summary)],
            usage: .init(inputTokens: completion.promptTokens, outputTokens: completion.completionTokens))
        return try StubJSON.encode(answer)
    }

    func errorBody(_ fault: StubFault) -> [UInt8] {
        let detail: ErrorDetail
        switch fault {
        case .invalidRequest(let problem):
            let message = problem.param.map { "\($0): \(problem.message)" } ?? problem.message
            detail = ErrorDetail(type: "invalid_request_error", message: message)
        case .rateLimited:
            detail = ErrorDetail(
                type: "rate_limit_error",
                message: "This request would exceed the rate limit for your organization of requests per minute.")
        case .status(let status):
            switch status {
            case 401: detail = ErrorDetail(type: "authentication_error", message: "invalid x-api-key")
            case 403: detail = ErrorDetail(type: "permission_error", message: "Your API key does not have permission to use the specified resource.")
            case 404: detail = ErrorDetail(type: "not_found_error", message: "The requested resource could not be found.")
            case 413: detail = ErrorDetail(type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes.")
            case 504: detail = ErrorDetail(type: "timeout_error", message: "The request timed out.")
            case 529: detail = ErrorDetail(type: "overloaded_error", message: "Overloaded")
            case 500...: detail = ErrorDetail(type: "api_error", message: "Internal server error")
            default: detail = ErrorDetail(type: "invalid_request_error", message: "The request could not be processed.")
            }
        }
        return (try? StubJSON.encode(ErrorEnvelope(error: detail))) ?? []
    }
}

// MARK: - Wire types

extension AnthropicDialect {
    private struct Message: Encodable {
        var id: String
        var type = "message"
        var role = "assistant"
        var model: String
        var content: [TextBlock]
        var stopReason = "end_turn"
        var usage: Usage

        enum CodingKeys: String, CodingKey {
            case id, type, role, model, content, usage
            case stopReason = "stop_reason", stopSequence = "stop_sequence"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(type, forKey: .type)
            try c.encode(role, forKey: .role)
            try c.encode(model, forKey: .model)
            try c.encode(content, forKey: .content)
            try c.encode(stopReason, forKey: .stopReason)
            try c.encodeNil(forKey: .stopSequence)
            try c.encode(usage, forKey: .usage)
        }
    }

    private struct TextBlock: Encodable {
        var type = "text"
        var text: String
    }

    private struct Usage: Encodable {
        var inputTokens: Int
        var outputTokens: Int

        enum CodingKeys: String, CodingKey { case inputTokens = "input_tokens", outputTokens = "output_tokens" }
    }

    /// `{"type": "error", "error": {type, message}}`.
    private struct ErrorEnvelope: Encodable {
        var type = "error"
        var error: ErrorDetail
    }

    private struct ErrorDetail: Encodable {
        var type: String
        var message: String
    }
}
