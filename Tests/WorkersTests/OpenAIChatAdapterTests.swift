import SluiceCore
import SluiceHTTP
import Testing

@testable import Workers

/// `OpenAIChatAdapter.interpret` on crafted answers: whatever a provider sends, the worker
/// gets a sane outcome and never traps.
@Suite("OpenAIChatAdapter")
struct OpenAIChatAdapterTests {
    private let adapter = OpenAIChatAdapter()
    private static let rateLimitBody = Array(#"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#.utf8)

    // MARK: - Retry hints

    /// One set of hint headers and the wait it must come to.
    struct RetryCase: Sendable, CustomTestStringConvertible {
        var retryAfterMs: String?
        var retryAfter: String?
        var expected: Int?
        var testDescription: String { "retry-after-ms=\(retryAfterMs ?? "-") retry-after=\(retryAfter ?? "-") → \(expected.map(String.init) ?? "nil")" }

        var response: HTTPClientResponse {
            var headers: [HTTPHeader] = []
            if let retryAfterMs { headers.append(HTTPHeader("retry-after-ms", retryAfterMs)) }
            if let retryAfter { headers.append(HTTPHeader("retry-after", retryAfter)) }
            return HTTPClientResponse(status: 429, headers: headers, body: OpenAIChatAdapterTests.rateLimitBody)
        }
    }

    /// Numeric hints do not depend on the clock, so they go through `interpret` itself.
    static let numericCases: [RetryCase] = [
        RetryCase(retryAfter: "7", expected: 7_000),
        RetryCase(retryAfter: " 1.5 ", expected: 1_500),
        RetryCase(retryAfter: "0", expected: 0),
        RetryCase(retryAfter: "inf", expected: nil),
        RetryCase(retryAfter: "Infinity", expected: nil),
        RetryCase(retryAfter: "nan", expected: nil),
        RetryCase(retryAfter: "-5", expected: nil),
        RetryCase(retryAfter: "+5", expected: nil),
        RetryCase(retryAfter: "0x10", expected: nil),
        RetryCase(retryAfter: "soon", expected: nil),
        RetryCase(retryAfter: "", expected: nil),
        RetryCase(retryAfter: "1e19", expected: RetryAfter.ceilingMs),
        RetryCase(retryAfter: "1e400", expected: RetryAfter.ceilingMs),
        RetryCase(retryAfter: "99999999999999999999999999", expected: RetryAfter.ceilingMs),
        RetryCase(retryAfter: "86401", expected: RetryAfter.ceilingMs),
        RetryCase(retryAfterMs: "250", retryAfter: "9", expected: 250),
        RetryCase(retryAfterMs: "0.2", expected: 1),
        RetryCase(retryAfterMs: "1e19", expected: RetryAfter.ceilingMs),
        RetryCase(retryAfterMs: "inf", retryAfter: "2", expected: 2_000),
        RetryCase(retryAfterMs: "nan", expected: nil),
        RetryCase(retryAfterMs: "-1", expected: nil),
        RetryCase(expected: nil),
    ]

    @Test("a retriable answer carries a sane wait for every Retry-After form", arguments: numericCases)
    func numericRetryAfter(_ c: RetryCase) {
        guard case .retriable(let error, let retryAfterMs) = adapter.interpret(c.response) else {
            Issue.record("a 429 must be retriable")
            return
        }
        #expect(retryAfterMs == c.expected)
        #expect(error.type == "rate_limited" && error.code == "rate_limit_exceeded")
    }

    /// 2015-10-21 07:27:00 GMT: one minute before the dates below.
    private static let nowMs: Int64 = 1_445_412_420_000

    static let dateCases: [RetryCase] = [
        RetryCase(retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT", expected: 60_000),
        RetryCase(retryAfter: "Wednesday, 21-Oct-15 07:28:00 GMT", expected: 60_000),
        RetryCase(retryAfter: "Wed Oct 21 07:28:00 2015", expected: 60_000),
        RetryCase(retryAfter: "Wed, 21 Oct 2015 07:26:00 GMT", expected: 0),
        RetryCase(retryAfter: "Thu, 01 Jan 1970 00:00:00 GMT", expected: 0),
        RetryCase(retryAfter: "Fri, 31 Dec 9999 23:59:59 GMT", expected: RetryAfter.ceilingMs),
        RetryCase(retryAfter: "Wed, 31 Feb 2015 07:28:00 GMT", expected: nil),
        RetryCase(retryAfter: "Wed, 21 Oct 2015 24:00:00 GMT", expected: nil),
        RetryCase(retryAfter: "Wed, 21 Oct 2015 07:28:00 CET", expected: nil),
        RetryCase(retryAfter: "Wed, 21 Foo 2015 07:28:00 GMT", expected: nil),
        RetryCase(retryAfter: "Wed, 21 Oct 99999 07:28:00 GMT", expected: nil),
    ]

    @Test("an HTTP date means the time until it: past is now, far future is the ceiling", arguments: dateCases)
    func dateRetryAfter(_ c: RetryCase) {
        #expect(RetryAfter.milliseconds(in: c.response, nowMs: Self.nowMs) == c.expected)
    }

    @Test("HTTP dates read as the right instant, leap days included")
    func httpDates() {
        #expect(HTTPDate.unixSeconds("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.unixSeconds("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.unixSeconds("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.unixSeconds("Tue, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
        #expect(HTTPDate.unixSeconds("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799)
        #expect(HTTPDate.unixSeconds("Wed, 31 Dec 1969 23:59:59 GMT") == -1)
        #expect(HTTPDate.unixSeconds("Thu, 29 Feb 1900 00:00:00 GMT") == nil, "1900 is not a leap year")
    }

    // MARK: - Token counts

    @Test("token counts near Int64.max, negative or not integers never overflow")
    func absurdUsage() throws {
        func usage(_ json: String) -> Usage? {
            let body = Array(#"{"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":\#(json)}"#.utf8)
            guard case .success(_, let usage) = adapter.interpret(HTTPClientResponse(status: 200, body: body)) else {
                Issue.record("a chat completion must succeed")
                return nil
            }
            return usage
        }
        let max = Usage.tokenRange.upperBound
        let huge = try #require(usage(#"{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}"#))
        #expect(huge == Usage(promptTokens: max, completionTokens: max, totalTokens: max))
        let hugeTotal = try #require(usage(#"{"prompt_tokens":1,"completion_tokens":2,"total_tokens":9223372036854775807}"#))
        #expect(hugeTotal.totalTokens == max)
        let negative = try #require(usage(#"{"prompt_tokens":-9223372036854775808,"completion_tokens":5}"#))
        #expect(negative.promptTokens == 0 && negative.completionTokens == 5 && negative.totalTokens == 5)
        #expect(usage(#"{"prompt_tokens":1e19,"completion_tokens":1}"#) == nil)
        #expect(usage(#"{"prompt_tokens":10,"completion_tokens":7}"#) == Usage(promptTokens: 10, completionTokens: 7, totalTokens: 17))
    }

    // MARK: - Bodies

    @Test("a 2xx body that is not JSON is a retriable invalid_response that says so")
    func nonJSONSuccess() {
        let outcome = adapter.interpret(HTTPClientResponse(status: 200, body: Array("<html>oops</html>".utf8)))
        guard case .retriable(let error, _) = outcome else {
            Issue.record("expected retriable, got \(outcome)")
            return
        }
        #expect(error.code == "invalid_response")
        #expect(error.message.contains("not JSON"))
        #expect(error.providerStatus == 200)
    }

    @Test("an error body that is not JSON keeps the status, and its start in the message")
    func nonJSONErrors() {
        let gateway = adapter.interpret(HTTPClientResponse(status: 502, body: Array("<html>Bad gateway</html>".utf8)))
        guard case .retriable(let retriable, nil) = gateway else {
            Issue.record("a 502 must be retriable without a hint, got \(gateway)")
            return
        }
        #expect(retriable.code == "http_502" && retriable.type == "provider_error")
        #expect(retriable.message.contains("Bad gateway"))
        let badRequest = adapter.interpret(HTTPClientResponse(status: 400, body: Array("no".utf8)))
        guard case .permanent(let permanent) = badRequest else {
            Issue.record("a 400 must be permanent, got \(badRequest)")
            return
        }
        #expect(permanent.type == "invalid_request_error" && permanent.code == "http_400")
        #expect(permanent.message.contains("not JSON"))
    }

    @Test("error messages are found in the shapes OpenAI-compatible servers use", arguments: [
        #"{"error":{"message":"m1","code":"c"}}"#, #"{"error":"m1"}"#,
        #"{"object":"error","message":"m1","type":"BadRequestError","code":400}"#, #"{"detail":"m1"}"#,
    ])
    func errorShapes(_ body: String) {
        guard case .permanent(let error) = adapter.interpret(HTTPClientResponse(status: 400, body: Array(body.utf8))) else {
            Issue.record("a 400 must be permanent")
            return
        }
        #expect(error.message == "m1")
    }

    @Test("a 16 MiB error body leaves a bounded message and code", arguments: [true, false])
    func hugeErrorBody(isJSON: Bool) {
        let sixteenMiB = 16 << 20
        let body: [UInt8]
        if isJSON {
            let message = String(repeating: "é", count: sixteenMiB / 2)  // two bytes each: a cut must not split one
            let code = String(repeating: "c", count: 10_000)
            body = Array(#"{"error":{"message":"\#(message)","code":"\#(code)"}}"#.utf8)
        } else {
            body = [UInt8](repeating: UInt8(ascii: "z"), count: sixteenMiB)
        }
        guard case .retriable(let error, _) = adapter.interpret(HTTPClientResponse(status: 500, body: body)) else {
            Issue.record("a 500 must be retriable")
            return
        }
        #expect(error.message.utf8.count <= JobError.maxMessageBytes)
        #expect((error.code?.utf8.count ?? 0) <= JobError.maxCodeBytes)
        if isJSON {
            #expect(error.message.hasSuffix("bytes in all]"), "a cut message says so")
            #expect(error.message.hasPrefix("éé"))
            #expect(!error.message.contains("\u{FFFD}"), "no scalar was split")
        }
        // What reaches Kafka is small too.
        let result = ResultEnvelope(
            jobID: "j", tenant: "t", attempt: 1, status: .failed, model: "m", error: error, startedAtMs: 1, finishedAtMs: 2)
        #expect(Wire.encode(result).count < 4_096)
    }

    // MARK: - Transport errors

    @Test("a body over the client's limit fails the job for good, naming the limit")
    func responseTooLarge() {
        let outcome = adapter.interpret(CurlError.responseTooLarge(limit: 16 << 20))
        guard case .permanent(let error) = outcome else {
            Issue.record("expected permanent, got \(outcome)")
            return
        }
        #expect(error.type == "provider_error" && error.code == "response_too_large")
        #expect(error.message.contains("16777216") && error.message.contains("workers.max_response_bytes"))
    }

    @Test("a timeout is a retriable timeout")
    func timeout() {
        let outcome = adapter.interpret(CurlError(code: 28, message: "Operation timed out after 500 milliseconds"))
        guard case .retriable(let error, nil) = outcome else {
            Issue.record("expected retriable, got \(outcome)")
            return
        }
        #expect(error.type == "provider_unreachable" && error.code == "timeout")
    }
}
