import SluiceCore
import SluiceHTTP
import Testing

@testable import Workers

/// Rate-limit headers are untrusted numbers that feed limiter arithmetic: every form either
/// reads as a bounded value or is dropped.
@Suite("Rate-limit headers")
struct RateLimitHeadersTests {
    @Test("OpenAI's x-ratelimit-* headers read as documented")
    func openAI() {
        let response = HTTPClientResponse(status: 200, headers: [
            HTTPHeader("x-ratelimit-limit-requests", "500"), HTTPHeader("x-ratelimit-remaining-requests", "499"),
            HTTPHeader("x-ratelimit-reset-requests", "120ms"), HTTPHeader("x-ratelimit-limit-tokens", "200000"),
            HTTPHeader("x-ratelimit-remaining-tokens", "199000"), HTTPHeader("x-ratelimit-reset-tokens", "6m0s"),
        ])
        let snapshot = OpenAIChatAdapter().rateLimits(in: response)
        #expect(snapshot == RateLimitSnapshot(
            requestLimit: 500, requestsRemaining: 499, requestsResetMs: 120, tokenLimit: 200_000, tokensRemaining: 199_000,
            tokensResetMs: 360_000))
        #expect(AzureOpenAIAdapter().rateLimits(in: response) == snapshot)
        #expect(OpenAIChatAdapter().rateLimits(in: HTTPClientResponse(status: 200)) == nil)
        #expect(GeminiGenerateContentAdapter().rateLimits(in: response) == nil)
    }

    @Test("Go durations and bare seconds", arguments: [
        ("1s", 1_000), ("20ms", 20), ("6m0s", 360_000), ("4m12.172s", 252_172), ("1h2m3s", 3_723_000), ("0", 0), ("0s", 0),
        ("2m59.56s", 179_560), ("7.66s", 7_660), ("1.5", 1_500), ("500us", 1), ("100h", 86_400_000), ("1e19", 86_400_000),
        ("99999999999999999999h", 86_400_000), (" 1s ", 1_000),
    ])
    func durations(text: String, ms: Int) {
        #expect(RateLimitHeaders.duration(text) == ms)
    }

    @Test("hostile durations are dropped", arguments: [
        "inf", "nan", "-1s", "-5", "+1s", "soon", "", "1x", "s", "1.s", ".5s", "1..2s", "0x10s", "1e19s", "Infinity", "1s-1s",
    ])
    func hostileDurations(text: String) {
        #expect(RateLimitHeaders.duration(text) == nil)
    }

    @Test("counts: digits only, clamped to Int32.max", arguments: [
        ("0", 0), ("500", 500), ("2147483647", 2_147_483_647), ("2147483648", 2_147_483_647), ("99999999999999999999999", 2_147_483_647),
    ])
    func counts(text: String, value: Int) {
        #expect(RateLimitHeaders.count(text) == value)
    }

    @Test("hostile counts are dropped", arguments: ["-1", "1e19", "inf", "nan", "1.5", "", " ", "0x10", "12abc", "١٢"])
    func hostileCounts(text: String) {
        #expect(RateLimitHeaders.count(text) == nil)
    }

    @Test("Anthropic's anthropic-ratelimit-* headers: RFC 3339 resets measured from now, clamped")
    func anthropic() {
        // 2026-01-01T00:00:00Z
        let now: Int64 = 1_767_225_600_000
        let adapter = AnthropicMessagesAdapter(clock: WallClock { now })
        let response = HTTPClientResponse(status: 429, headers: [
            HTTPHeader("anthropic-ratelimit-requests-limit", "50"), HTTPHeader("anthropic-ratelimit-requests-remaining", "0"),
            HTTPHeader("anthropic-ratelimit-requests-reset", "2026-01-01T00:00:01.5Z"),
            HTTPHeader("anthropic-ratelimit-tokens-limit", "30000"), HTTPHeader("anthropic-ratelimit-tokens-remaining", "29000"),
            HTTPHeader("anthropic-ratelimit-tokens-reset", "2026-01-01T01:00:00+01:00"),
            HTTPHeader("retry-after", "2"),
        ])
        #expect(adapter.rateLimits(in: response) == RateLimitSnapshot(
            requestLimit: 50, requestsRemaining: 0, requestsResetMs: 1_500, tokenLimit: 30_000, tokensRemaining: 29_000, tokensResetMs: 0))

        let hostile = HTTPClientResponse(status: 200, headers: [
            HTTPHeader("anthropic-ratelimit-requests-limit", "1e19"), HTTPHeader("anthropic-ratelimit-requests-remaining", "-3"),
            HTTPHeader("anthropic-ratelimit-requests-reset", "9999-12-31T23:59:59Z"),
            HTTPHeader("anthropic-ratelimit-input-tokens-limit", "99999999999999999999"),
            HTTPHeader("anthropic-ratelimit-input-tokens-reset", "2026-02-30T00:00:00Z"),
        ])
        #expect(adapter.rateLimits(in: hostile) == RateLimitSnapshot(requestsResetMs: 86_400_000, tokenLimit: Int(Int32.max)))
    }

    @Test("RFC 3339 times", arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)), ("2026-01-01T00:00:00Z", 1_767_225_600_000), ("2024-02-29T12:00:00.25Z", 1_709_208_000_250),
        ("2026-01-01T02:00:00+02:00", 1_767_225_600_000), ("2025-12-31T23:00:00-01:00", 1_767_225_600_000),
    ])
    func rfc3339(text: String, ms: Int64) {
        #expect(RFC3339.unixMilliseconds(text) == ms)
    }

    @Test("malformed RFC 3339 times are dropped", arguments: [
        "", "2026-01-01", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00",
        "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+25:00", "Wed, 21 Oct 2015 07:28:00 GMT", "2026-01-01T00:00:00Zjunk",
    ])
    func badRFC3339(text: String) {
        #expect(RFC3339.unixMilliseconds(text) == nil)
    }
}
