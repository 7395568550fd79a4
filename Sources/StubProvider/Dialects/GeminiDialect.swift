import Foundation
import SluiceCore

/// Google's Gemini `generateContent` format (`POST /v1beta/models/{model}:generateContent`).
struct GeminiDialect: StubDialect {
    func parse(_ body: JSONValue, pathModel: String?) throws(StubRequestError) -> StubChatRequest {
        guard let model = pathModel, !model.isEmpty else {
            throw StubRequestError(message: "Model name is required in the URL.", param: "model")
        }
        var messages: [StubChatRequest.Message] = []
        // The API accepts both spellings of every field; clients use either.
        if let system = body["systemInstruction"] ?? body["system_instruction"], !system.isNull {
            messages.append(.init(role: "system", text: try Self.text(of: system, param: "system_instruction")))
        }
        for (index, content) in try body.requiredArray("contents").enumerated() {
            let param = "contents[\(index)]"
            guard case .object = content else {
                throw StubRequestError(message: "Invalid value at '\(param)': expected an object.", param: param)
            }
            let role = content["role"]?.stringValue ?? "user"
            guard role == "user" || role == "model" else {
                throw StubRequestError(
                    message: "Please use a valid role: user, model.", param: "\(param).role")
            }
            messages.append(.init(role: role == "model" ? "assistant" : "user", text: try Self.text(of: content, param: param)))
        }
        return StubChatRequest(model: model, messages: messages)
    }

    func answer(_ request: StubChatRequest, completion: StubChatCompletion) throws -> [UInt8] {
        let answer = GenerateContentResponse(
            candidates: [.init(content: .init(parts: [.init(text: completion.summary)]))],
            usageMetadata: .init(
                promptTokenCount: completion.promptTokens, candidatesTokenCount: completion.completionTokens,
                totalTokenCount: completion.totalTokens),
            modelVersion: request.model,
            responseId: UUIDv7.generate().replacingOccurrences(of: "-", with: ""))
        return try StubJSON.encode(answer)
    }

    func errorBody(_ fault: StubFault) -> [UInt8] {
        let status: Status
        switch fault {
        case .invalidRequest(let problem):
            let message = problem.param.map { "Invalid JSON payload received. '\($0)': \(problem.message)" } ?? problem.message
            status = Status(code: 400, message: message, status: "INVALID_ARGUMENT")
        case .rateLimited:
            status = Status(code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED")
        case .status(let code):
            switch code {
            case 401: status = Status(code: 401, message: "API key not valid. Please pass a valid API key.", status: "UNAUTHENTICATED")
            case 403: status = Status(code: 403, message: "The caller does not have permission.", status: "PERMISSION_DENIED")
            case 404: status = Status(code: 404, message: "models/unknown is not found for API version v1beta.", status: "NOT_FOUND")
            case 503, 529: status = Status(code: code, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE")
            case 504: status = Status(code: 504, message: "Deadline exceeded.", status: "DEADLINE_EXCEEDED")
            case 500...: status = Status(code: code, message: "An internal error has occurred. Please retry.", status: "INTERNAL")
            default: status = Status(code: code, message: "Request contains an invalid argument.", status: "INVALID_ARGUMENT")
            }
        }
        return (try? StubJSON.encode(["error": status])) ?? []
    }

    /// The text parts of a `Content` (`{parts: [{text}, …]}`), joined by newlines.
    private static func text(of content: JSONValue, param: String) throws(StubRequestError) -> String {
        guard let parts = content["parts"]?.arrayValue else {
            throw StubRequestError(message: "Invalid value at '\(param).parts': expected an array of parts.", param: "\(param).parts")
        }
        return parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
    }
}

// MARK: - Wire types

extension GeminiDialect {
    private struct GenerateContentResponse: Encodable {
        var candidates: [Candidate]
        var usageMetadata: UsageMetadata
        var modelVersion: String
        var responseId: String
    }

    private struct Candidate: Encodable {
        var content: Content
        var finishReason = "STOP"
        var index = 0
    }

    private struct Content: Encodable {
        var parts: [Part]
        var role = "model"
    }

    private struct Part: Encodable {
        var text: String
    }

    private struct UsageMetadata: Encodable {
        var promptTokenCount: Int
        var candidatesTokenCount: Int
        var totalTokenCount: Int
    }

    /// google.rpc.Status, as `{"error": {code, message, status}}`.
    private struct Status: Encodable {
        var code: Int
        var message: String
        var status: String
    }
}
