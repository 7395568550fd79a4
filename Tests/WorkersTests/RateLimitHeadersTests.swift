import SluiceCore
import Testing

@testable import Workers

@Suite("OpenAI rate-limit headers")
struct RateLimitHeadersTests {
    @Test("x-ratelimit-* are read, durations in OpenAI's notation become milliseconds")
    func reads() {
        let response = HTTPClientResponse(status: 200, headers: [
            HTTPHeader("x-ratelimit-limit-requests", "600"), HTTPHeader("x-ratelimit-remaining-requests", "0"),
            HTTPHeader("x-ratelimit-reset-requests", "120ms"), HTTPHeader("x-ratelimit-limit-tokens", "150000"),
            HTTPHeader("x-ratelimit-remaining-tokens", "149984"), HTTPHeader("x-ratelimit-reset-tokens", "6m0.5s"),
        ])
        #expect(OpenAIChatAdapter().rateLimits(in: response) == RateLimitSnapshot(
            requestLimit: 600, requestsRemaining: 0, requestsResetMs: 120, tokenLimit: 150_000, tokensRemaining: 149_984, tokensResetMs: 360_500))
        #expect(OpenAIChatAdapter().rateLimits(in: HTTPClientResponse(status: 200)) == nil)
    }

    @Test("hostile values are dropped or clamped, never trapped on")
    func hostile() {
        let response = HTTPClientResponse(status: 429, headers: [
            HTTPHeader("x-ratelimit-limit-requests", "99999999999999999999999"), HTTPHeader("x-ratelimit-remaining-requests", "-1"),
            HTTPHeader("x-ratelimit-reset-requests", "1e400s"), HTTPHeader("x-ratelimit-limit-tokens", "9223372036854775807"),
            HTTPHeader("x-ratelimit-reset-tokens", "soon"),
        ])
        let snapshot = OpenAIChatAdapter().rateLimits(in: response)
        #expect(snapshot?.requestLimit == nil && snapshot?.requestsRemaining == nil)
        #expect(snapshot?.tokenLimit == Int(Int32.max))
        #expect(snapshot?.requestsResetMs == nil || snapshot?.requestsResetMs == RetryAfter.ceilingMs)
        #expect(snapshot?.tokensResetMs == nil)
        #expect(OpenAIChatAdapter.durationMs("99999999h") == RetryAfter.ceilingMs)
        #expect(OpenAIChatAdapter.durationMs("1h2m3s") == 3_723_000)
        #expect(OpenAIChatAdapter.durationMs("") == nil && OpenAIChatAdapter.durationMs("5") == nil && OpenAIChatAdapter.durationMs("-5s") == nil)
    }
}
