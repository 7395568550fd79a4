import SluiceCore
import Testing

@testable import Workers

@Suite("Results larger than a Kafka record")
struct ResultFittingTests {
    private func result(content: String, choices: Int = 1) -> ResultEnvelope {
        let choice: JSONValue = ["index": 0, "message": ["role": "assistant", "content": .string(content)], "finish_reason": "stop"]
        return ResultEnvelope(
            jobID: "j", tenant: "t", attempt: 1, status: .succeeded, model: "m",
            response: ["id": "chatcmpl-1", "object": "chat.completion", "choices": .array(Array(repeating: choice, count: choices))],
            usage: Usage(promptTokens: 1, completionTokens: 2), startedAtMs: 1, finishedAtMs: 2)
    }

    @Test("an answer over the record limit is cut to fit and says so; a small one is untouched")
    func oversizedAnswerIsCutAndFlagged() {
        let limit = 1 << 20
        let big = result(content: String(repeating: "word ", count: 600_000), choices: 2)
        let size = Wire.encode(big).count
        #expect(size > limit)
        let fitted = big.fitting(maxBytes: limit, size: size)
        #expect(Wire.encode(fitted).count <= limit)
        #expect(fitted.response?["sluice_truncated"] == true)
        #expect(fitted.response?["sluice_original_bytes"]?.intValue == Int64(size))
        let text = fitted.response?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
        #expect(text.hasPrefix("word word") && text.contains("[truncated, "))
        #expect(fitted.usage == big.usage)

        let small = result(content: "fine")
        #expect(small.fitting(maxBytes: limit, size: Wire.encode(small).count) == small)
    }
}
