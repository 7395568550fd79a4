import SluiceCore

/// Anthropic Messages requests and answers in Sluice's internal (OpenAI chat-completions)
/// form and back: the reverse of the workers' Anthropic adapter, for the Message Batches
/// front door.
enum AnthropicBatchConversion {
    struct Refusal: Error {
        var param: String
        var message: String
    }

    // MARK: - Request

    /// The chat-completions body of a Messages request's `params`.
    ///
    /// - Throws: ``Refusal`` naming the field that has no chat-completions equivalent.
    static func chatBody(_ params: JSONValue, param: String) throws(Refusal) -> JSONValue {
        guard case .object(let fields) = params else { throw Refusal(param: param, message: "must be an object") }
        if let stream = fields["stream"], stream != .bool(false), !stream.isNull {
            throw Refusal(param: param + ".stream", message: "streaming is not available in batches")
        }
        var messages: [JSONValue] = []
        switch fields["system"] {
        case nil, .null?: break
        case .string(let text)?: messages.append(["role": "system", "content": .string(text)])
        case .array(let blocks)?:
            let texts = try blocks.enumerated().map { index, block throws(Refusal) -> String in
                guard block["type"]?.stringValue == "text", case .string(let text)? = block["text"] else {
                    throw Refusal(param: "\(param).system[\(index)]", message: "a system prompt holds only text blocks")
                }
                return text
            }
            messages.append(["role": "system", "content": .string(texts.joined(separator: "\n\n"))])
        default:
            throw Refusal(param: param + ".system", message: "must be a string or an array of text blocks")
        }
        guard case .array(let turns)? = fields["messages"], !turns.isEmpty else {
            throw Refusal(param: param + ".messages", message: "is required: a non-empty array of {role, content}")
        }
        for (index, turn) in turns.enumerated() {
            let at = "\(param).messages[\(index)]"
            guard case .string(let role)? = turn["role"], role == "user" || role == "assistant" else {
                throw Refusal(param: at + ".role", message: "must be 'user' or 'assistant'")
            }
            switch turn["content"] {
            case .string(let text)?:
                messages.append(["role": .string(role), "content": .string(text)])
            case .array(let blocks)?:
                messages += try convert(blocks, role: role, param: at + ".content")
            default:
                throw Refusal(param: at + ".content", message: "must be a string or an array of content blocks")
            }
        }
        var body: [String: JSONValue] = ["messages": .array(messages)]
        guard case .string(let model)? = fields["model"] else { throw Refusal(param: param + ".model", message: "is required") }
        body["model"] = .string(model)
        guard let maxTokens = fields["max_tokens"]?.intValue, maxTokens >= 1 else {
            throw Refusal(param: param + ".max_tokens", message: "is required: a positive integer")
        }
        body["max_tokens"] = .int(maxTokens)
        for key in ["temperature", "top_p"] { if let value = fields[key], !value.isNull { body[key] = value } }
        if let stop = fields["stop_sequences"], !stop.isNull { body["stop"] = stop }
        if case .string(let user)? = fields["metadata"]?["user_id"] { body["user"] = .string(user) }
        if case .array(let tools)? = fields["tools"] {
            body["tools"] = .array(try tools.enumerated().map { index, tool throws(Refusal) -> JSONValue in
                guard case .string(let name)? = tool["name"] else {
                    throw Refusal(param: "\(param).tools[\(index)].name", message: "is required")
                }
                var function: [String: JSONValue] = ["name": .string(name), "parameters": tool["input_schema"] ?? ["type": "object"]]
                if let description = tool["description"], !description.isNull { function["description"] = description }
                return ["type": "function", "function": .object(function)]
            })
        }
        if let choice = fields["tool_choice"], !choice.isNull {
            switch choice["type"]?.stringValue {
            case "auto": body["tool_choice"] = "auto"
            case "any": body["tool_choice"] = "required"
            case "none": body["tool_choice"] = "none"
            case "tool":
                guard case .string(let name)? = choice["name"] else {
                    throw Refusal(param: param + ".tool_choice.name", message: "is required for type 'tool'")
                }
                body["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            default:
                throw Refusal(param: param + ".tool_choice.type", message: "must be auto, any, none or tool")
            }
        }
        return .object(body)
    }

    /// One Anthropic turn's blocks as chat messages: text and images stay in the turn,
    /// `tool_use` becomes the assistant's tool calls, each `tool_result` a `tool` message.
    private static func convert(_ blocks: [JSONValue], role: String, param: String) throws(Refusal) -> [JSONValue] {
        var parts: [JSONValue] = []
        var calls: [JSONValue] = []
        var toolMessages: [JSONValue] = []
        for (index, block) in blocks.enumerated() {
            let at = "\(param)[\(index)]"
            switch block["type"]?.stringValue {
            case "text":
                guard case .string(let text)? = block["text"] else { throw Refusal(param: at + ".text", message: "is required") }
                parts.append(["type": "text", "text": .string(text)])
            case "image":
                let source = block["source"]
                switch source?["type"]?.stringValue {
                case "base64":
                    guard case .string(let media)? = source?["media_type"], case .string(let data)? = source?["data"] else {
                        throw Refusal(param: at + ".source", message: "needs media_type and data")
                    }
                    parts.append(["type": "image_url", "image_url": ["url": .string("data:\(media);base64,\(data)")]])
                case "url":
                    guard case .string(let url)? = source?["url"] else { throw Refusal(param: at + ".source.url", message: "is required") }
                    parts.append(["type": "image_url", "image_url": ["url": .string(url)]])
                default:
                    throw Refusal(param: at + ".source.type", message: "must be base64 or url")
                }
            case "tool_use" where role == "assistant":
                guard case .string(let id)? = block["id"], case .string(let name)? = block["name"] else {
                    throw Refusal(param: at, message: "a tool_use block needs id and name")
                }
                let arguments = String(decoding: (block["input"] ?? [:]).serialized(), as: UTF8.self)
                calls.append(["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]])
            case "tool_result" where role == "user":
                guard case .string(let id)? = block["tool_use_id"] else { throw Refusal(param: at + ".tool_use_id", message: "is required") }
                var text = ""
                switch block["content"] {
                case .string(let s)?: text = s
                case .array(let items)?: text = items.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
                default: break
                }
                toolMessages.append(["role": "tool", "tool_call_id": .string(id), "content": .string(text)])
            default:
                throw Refusal(param: at + ".type", message: "'\(block["type"]?.stringValue ?? "")' blocks are not supported in batches")
            }
        }
        var messages = toolMessages
        if !parts.isEmpty || !calls.isEmpty {
            var message: [String: JSONValue] = ["role": .string(role)]
            if parts.count == 1, let text = parts[0]["text"] {
                message["content"] = text
            } else {
                message["content"] = parts.isEmpty ? .null : .array(parts)
            }
            if !calls.isEmpty { message["tool_calls"] = .array(calls) }
            messages.append(.object(message))
        }
        return messages
    }

    // MARK: - Results

    /// One results line of the Anthropic results file from one line of the batch's OpenAI
    /// output or error file.
    static func resultLine(_ line: JSONValue) -> JSONValue {
        let customID = line["custom_id"] ?? .null
        if let response = line["response"], case .object = response {
            let status = response["status_code"]?.intValue ?? 0
            let body = response["body"] ?? .null
            if (200..<300).contains(status) {
                return ["custom_id": customID, "result": ["type": "succeeded", "message": message(body)]]
            }
            let message = body["error"]?["message"]?.stringValue ?? "The request failed with status \(status)."
            return errored(customID, type: errorType(status: status), message: message, requestID: response["request_id"])
        }
        switch line["error"]?["code"]?.stringValue {
        case "batch_cancelled": return ["custom_id": customID, "result": ["type": "canceled"]]
        case "batch_expired": return ["custom_id": customID, "result": ["type": "expired"]]
        default:
            let message = line["error"]?["message"]?.stringValue ?? "The request failed."
            let type = line["error"]?["line"] != nil ? "invalid_request_error" : "api_error"
            return errored(customID, type: type, message: message, requestID: nil)
        }
    }

    private static func errored(_ customID: JSONValue, type: String, message: String, requestID: JSONValue?) -> JSONValue {
        var error: [String: JSONValue] = ["type": "error", "error": ["type": .string(type), "message": .string(message)]]
        if let requestID { error["request_id"] = requestID }
        return ["custom_id": customID, "result": ["type": "errored", "error": .object(error)]]
    }

    private static func errorType(status: Int64) -> String {
        switch status {
        case 400, 413, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 408, 504: "timeout_error"
        case 529: "overloaded_error"
        default: "api_error"
        }
    }

    /// An Anthropic Message from a chat.completion.
    static func message(_ completion: JSONValue) -> JSONValue {
        let choice = completion["choices"]?.arrayValue?.first
        let assistant = choice?["message"]
        var content: [JSONValue] = []
        if case .string(let text)? = assistant?["content"], !text.isEmpty { content.append(["type": "text", "text": .string(text)]) }
        for call in assistant?["tool_calls"]?.arrayValue ?? [] {
            let arguments = call["function"]?["arguments"]?.stringValue ?? "{}"
            let input = (try? JSONValue.parse(Array(arguments.utf8))) ?? [:]
            content.append([
                "type": "tool_use", "id": call["id"] ?? "", "name": call["function"]?["name"] ?? "", "input": input,
            ])
        }
        let stopReason: JSONValue
        switch choice?["finish_reason"]?.stringValue {
        case "length": stopReason = "max_tokens"
        case "tool_calls", "function_call": stopReason = "tool_use"
        case "stop": stopReason = "end_turn"
        case nil: stopReason = .null
        default: stopReason = "end_turn"
        }
        let usage = completion["usage"]
        return [
            "id": completion["id"] ?? "", "type": "message", "role": "assistant", "model": completion["model"] ?? "",
            "content": .array(content), "stop_reason": stopReason, "stop_sequence": .null,
            "usage": [
                "input_tokens": .int(usage?["prompt_tokens"]?.intValue ?? 0),
                "output_tokens": .int(usage?["completion_tokens"]?.intValue ?? 0),
            ],
        ]
    }
}
