import Foundation
import SluiceCore

/// OpenAI's Chat Completions format (`POST /v1/chat/completions`).
struct OpenAIDialect: StubDialect {
    private static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]

    func parse(_ body: JSONValue, pathModel: String?) throws(StubRequestError) -> StubChatRequest {
        // Azure names the deployment in the path and needs no `model` in the body.
        let model: String
        if let pathModel { model = pathModel } else { model = try body.requiredString("model") }
        let rawMessages = try body.requiredArray("messages")
        var messages: [StubChatRequest.Message] = []
        messages.reserveCapacity(rawMessages.count)
        for (index, message) in rawMessages.enumerated() {
            let param = "messages.[\(index)]"
            guard case .object = message else {
                throw StubRequestError(
                    message: "Invalid type for '\(param)': expected an object, but got \(message.typeName) instead.", param: param)
            }
            let role = try message.requiredString("role", param: "\(param).role")
            guard Self.roles.contains(role) else {
                throw StubRequestError(
                    message: "Invalid value: '\(role)'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool', and 'function'.",
                    param: "\(param).role")
            }
            let content = message["content"] ?? .null
            // An assistant turn that only called tools has no content.
            if content.isNull && role == "assistant" {
                messages.append(.init(role: role, text: ""))
                continue
            }
            if content.isNull {
                throw StubRequestError(message: "Missing required parameter: '\(param).content'.", param: "\(param).content")
            }
            messages.append(.init(role: role, text: try content.textContent(param: "\(param).content")))
        }
        return StubChatRequest(model: model, messages: messages)
    }

    func answer(_ request: StubChatRequest, completion: StubChatCompletion) throws -> [UInt8] {
        let answer = ChatCompletion(
            id: "chatcmpl-" + UUIDv7.generate().replacingOccurrences(of: "-", with: ""),
            created: WallClock.system.nowMs() / 1000,
            model: request.model,
            choices: [.init(message: .init(content: completion.summary))],
            usage: .init(
                promptTokens: completion.promptTokens, completionTokens: completion.completionTokens,
                totalTokens: completion.totalTokens))
        return try StubJSON.encode(answer)
    }

    func errorBody(_ fault: StubFault) -> [UInt8] {
        let error: APIError
        switch fault {
        case .invalidRequest(let problem):
            error = APIError(message: problem.message, type: "invalid_request_error", param: problem.param, code: nil)
        case .rateLimited(let seconds):
            error = APIError(
                message: "Rate limit reached for requests on the stub provider. Please try again in \(seconds)s.",
                type: "requests", param: nil, code: "rate_limit_exceeded")
        case .status(let status):
            switch status {
            case 401:
                error = APIError(message: "Incorrect API key provided.", type: "invalid_request_error", param: nil, code: "invalid_api_key")
            case 403:
                error = APIError(message: "You are not allowed to sample from this model.", type: "invalid_request_error", param: nil, code: "model_not_allowed")
            case 404:
                error = APIError(message: "The model does not exist or you do not have access to it.", type: "invalid_request_error", param: nil, code: "model_not_found")
            case 503, 529:
                error = APIError(message: "The engine is currently overloaded, please try again later.", type: "server_error", param: nil, code: nil)
            default:
                error = APIError(
                    message: "The server had an error while processing your request. Sorry about that!",
                    type: status < 500 ? "invalid_request_error" : "server_error", param: nil, code: nil)
            }
        }
        return (try? StubJSON.encode(["error": error])) ?? []
    }
}

// MARK: - Wire types

extension OpenAIDialect {
    /// `chat.completion`, field for field as OpenAI sends it.
    private struct ChatCompletion: Encodable {
        var id: String
        var object = "chat.completion"
        var created: Int64
        var model: String
        var choices: [Choice]
        var usage: Usage
    }

    private struct Choice: Encodable {
        var index = 0
        var message: Message
        var finishReason = "stop"

        enum CodingKeys: String, CodingKey { case index, message, logprobs, finishReason = "finish_reason" }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(message, forKey: .message)
            try c.encodeNil(forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    private struct Message: Encodable {
        var role = "assistant"
        var content: String

        enum CodingKeys: String, CodingKey { case role, content, refusal }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(role, forKey: .role)
            try c.encode(content, forKey: .content)
            try c.encodeNil(forKey: .refusal)
        }
    }

    private struct Usage: Encodable {
        var promptTokens: Int
        var completionTokens: Int
        var totalTokens: Int

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        }
    }

    /// `{"error": {message, type, param, code}}`; `param` and `code` are sent as `null` when absent.
    private struct APIError: Encodable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        enum CodingKeys: String, CodingKey { case message, type, param, code }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)
            try c.encode(code, forKey: .code)
        }
    }
}
