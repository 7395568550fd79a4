import SluiceCore
import Testing
import Workers

/// Standard Webhooks signatures against the vector in BATCH-WEBHOOK-NOTES.md (computed with
/// Python's hmac and equal to the `standardwebhooks` library's `sign()`).
@Suite("Webhook signatures")
struct WebhookSignerTests {
    static let body = Array(
        #"{"type":"batch.completed","timestamp":"2025-01-01T00:00:00Z","data":{"id":"batch_abc123","object":"batch","status":"completed"}}"#.utf8)

    @Test("one secret gives the spec's v1 signature")
    func vector() throws {
        let secret = try #require(WebhookSecret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="))
        #expect(Self.body.count == 128)
        let signature = WebhookSigner.signature(id: "msg_2b7YxQ1example", timestampSeconds: 1_735_689_600, body: Self.body, secrets: [secret])
        #expect(signature == "v1,TAvFRHFfM4SiYueAWWOR10e44rHIs/KbhfR2LaI2pk8=")
    }

    @Test("during a rotation every secret signs, space-separated")
    func rotation() throws {
        let old = try #require(WebhookSecret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="))
        let new = try #require(WebhookSecret("whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="))
        let signature = WebhookSigner.signature(id: "msg_2b7YxQ1example", timestampSeconds: 1_735_689_600, body: Self.body, secrets: [new, old])
        #expect(signature == "v1,1w/tTzXJjRwV5DKVW7/luUH+fPGIJXDPweqxaFYkCCQ= v1,TAvFRHFfM4SiYueAWWOR10e44rHIs/KbhfR2LaI2pk8=")
    }

    @Test("the library's own vector is reproduced")
    func upstreamVector() throws {
        let secret = try #require(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let headers = WebhookSigner.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestampSeconds: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), secrets: [secret])
        #expect(headers.map(\.0) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers[1].1 == "1614265330")
        #expect(headers[2].1 == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("secrets must be whsec_ plus base64 of 24 to 64 bytes")
    func secrets() {
        #expect(WebhookSecret("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") == nil)
        #expect(WebhookSecret("whsec_AAEC") == nil)
        #expect(WebhookSecret("whsec_not base64!") == nil)
        #expect(WebhookSecret.generate().key.count == 32)
    }

    @Test("a large job result becomes a link; a small one is inline")
    func payloadSize() {
        var result = ResultEnvelope(jobID: "j1", tenant: "t", attempt: 1, status: .succeeded, model: "m", response: ["text": "hi"], startedAtMs: 0, finishedAtMs: 1_735_689_600_000)
        let small = WebhookPayload.job(result)
        #expect(small?.type == "job.succeeded")
        #expect(small?.body.contains(#""result""#) == true)
        #expect(small?.body.contains(#""timestamp":"2025-01-01T00:00:00.000Z""#) == true)
        result.response = ["text": .string(String(repeating: "x", count: 30_000))]
        let large = WebhookPayload.job(result)
        #expect(large?.body.contains(#""url":"\/v1\/jobs\/j1""#) == true || large?.body.contains(#""url":"/v1/jobs/j1""#) == true)
        #expect((large?.body.utf8.count ?? .max) <= WebhookDelivery.maxInlinePayloadBytes)
        result.status = .cancelled
        #expect(WebhookPayload.job(result) == nil)
    }

    @Test("Retry-After is read as seconds or an HTTP date, capped, and anything else ignored")
    func retryAfter() {
        let now: Int64 = 1_735_689_600_000  // 2025-01-01T00:00:00Z
        #expect(WebhookDispatcher.retryAfterMs("120", nowMs: now, capSeconds: 86_400) == 120_000)
        #expect(WebhookDispatcher.retryAfterMs("9999999999999", nowMs: now, capSeconds: 3_600) == 3_600_000)
        #expect(WebhookDispatcher.retryAfterMs("Wed, 01 Jan 2025 00:01:00 GMT", nowMs: now, capSeconds: 86_400) == 60_000)
        #expect(WebhookDispatcher.retryAfterMs("Tue, 31 Dec 2024 00:00:00 GMT", nowMs: now, capSeconds: 86_400) == 0)
        #expect(WebhookDispatcher.retryAfterMs("Fri, 01 Jan 9999 00:00:00 GMT", nowMs: now, capSeconds: 60) == 60_000)
        for bad in [nil, "", "-5", "soon", "1e9", "99999999999999999999999"] {
            #expect(WebhookDispatcher.retryAfterMs(bad, nowMs: now, capSeconds: 60) == nil, "\(bad ?? "nil")")
        }
    }
}
