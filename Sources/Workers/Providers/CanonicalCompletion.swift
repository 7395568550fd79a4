import SluiceCore

/// Builds the canonical answer, an OpenAI `chat.completion` object, from what a dialect's
/// response said, so that results look the same whichever provider served them.
struct CanonicalCompletion: Sendable {
    var id: String
    var model: String
    /// Unix seconds.
    var created: Int64
    /// The assistant's text; nil when it only called tools (or was blocked).
    var content: String?
    var toolCalls: [CanonicalRequest.ToolCall] = []
    /// `stop`, `length`, `tool_calls` or `content_filter`.
    var finishReason: String
    /// The provider's own reason (`end_turn`, `MAX_TOKENS`), kept because the mapping loses detail.
    var nativeFinishReason: String?
    var usage: Usage?

    var json: JSONValue {
        var message: [String: JSONValue] = ["role": "assistant", "content": content.map(JSONValue.string) ?? .null]
        if !toolCalls.isEmpty {
            message["tool_calls"] = .array(toolCalls.map { call in
                ["id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
            })
        }
        var choice: [String: JSONValue] = ["index": 0, "message": .object(message), "finish_reason": .string(finishReason), "logprobs": .null]
        if let nativeFinishReason { choice["native_finish_reason"] = .string(nativeFinishReason) }
        var object: [String: JSONValue] = [
            "id": .string(id), "object": "chat.completion", "created": .int(created), "model": .string(model),
            "choices": [.object(choice)],
        ]
        if let usage { object["usage"] = usage.json }
        return .object(object)
    }
}
