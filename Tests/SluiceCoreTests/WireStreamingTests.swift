import Testing

@testable import SluiceCore

/// The envelopes on every job's path write their JSON straight into bytes
/// (`writeJSON(into:)`); these must be the very bytes their `json` trees serialize to, or a
/// field added to one form and not the other would silently vanish from the wire.
@Suite struct WireStreamingTests {
    static let request: JSONValue = [
        "model": "demo", "temperature": .double(0.2),
        "messages": [["role": "user", "content": "Quote \"this\" \\ and a newline\n, é, 😀"]],
    ]

    private func expectSameBytes(_ value: some JSONRepresentable, _ comment: Comment) {
        #expect(Wire.encode(value) == value.json.serialized(), comment)
    }

    @Test func jobEnvelopes() {
        var full = JobEnvelope(
            id: "0190a1b2-0000-7000-8000-000000000001", tenant: "acme", model: "demo", priority: .p0, request: Self.request,
            webhook: .init(url: "https://example.com/hook"), metadata: ["run": "nightly"], deadlineMs: 1_900_000_000_000,
            attempt: 3, createdAtMs: 1_800_000_000_000, idempotencyKey: "key-1", batchID: "batch_1",
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        full.notBeforeMs = 1_800_000_005_000
        full.replay = 2
        full.recordFailure(AttemptFailure(attempt: 1, atMs: 1_800_000_001_000, error: JobError(type: "rate_limited", code: "429", message: "slow down", providerStatus: 429)))
        expectSameBytes(full, "every field set")
        expectSameBytes(
            JobEnvelope(id: "j", tenant: "t", model: "m", priority: .p2, request: [:], createdAtMs: 0), "only the required fields")
    }

    @Test func resultsAndErrors() {
        let succeeded = ResultEnvelope(
            jobID: "j", tenant: "t", attempt: 1, status: .succeeded, model: "m", route: "stub/demo",
            response: ["choices": [["message": ["content": "hi"]]]], usage: Usage(promptTokens: 12, completionTokens: 3),
            cost: 0.000125, currency: "USD", startedAtMs: 10, finishedAtMs: 20)
        expectSameBytes(succeeded, "a success")
        var failed = ResultEnvelope(
            jobID: "j", tenant: "t", attempt: 4, status: .failed, model: "m",
            error: JobError(type: "provider_error", message: "boom"), startedAtMs: 10, finishedAtMs: 20)
        failed.replay = 1
        expectSameBytes(failed, "a failure of a replay")
        expectSameBytes(ResultEnvelope(jobID: "j", tenant: "t", attempt: 1, status: .succeeded, model: "m", cost: 3, startedAtMs: 1, finishedAtMs: 2), "a whole-number cost")
    }

    @Test func auditEventsAndJobViews() {
        expectSameBytes(
            AuditEvent(type: .accepted, tenant: "t", jobID: "j", attempt: 1, atMs: 5, actor: "ingress", detail: ["model": "m", "n": .int(3)]),
            "with detail")
        expectSameBytes(AuditEvent(type: .started, tenant: "t", jobID: "j", attempt: 2, atMs: 5, actor: "worker", replay: 1), "a replay")
        expectSameBytes(
            JobView(
                id: "j", tenant: "t", status: .succeeded, model: "m", priority: .p1, attempts: 1, createdAtMs: 1, startedAtMs: 2,
                completedAtMs: 3, batchID: "b", metadata: ["k": "v"], result: ["x": .int(1)], error: nil,
                usage: Usage(promptTokens: 1, completionTokens: 2), cost: 0.5, currency: "EUR",
                injectionFlags: [["field": "messages[0].content", "flag": "ignore_previous_instructions"]]),
            "a finished job")
        expectSameBytes(JobView(id: "j", tenant: "t", status: .queued, model: "m", priority: .p1, attempts: 0, createdAtMs: 1), "a queued job")
    }

    @Test func timestampsAreISO8601InUTC() {
        #expect(ISO8601Milliseconds.format(ms: 0) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601Milliseconds.format(ms: 1_735_689_600_123) == "2025-01-01T00:00:00.123Z")
        #expect(ISO8601Milliseconds.format(ms: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(ISO8601Milliseconds.format(ms: 4_107_542_399_999) == "2100-02-28T23:59:59.999Z")
        // Out of range: clamped, never a trap or a malformed string.
        #expect(ISO8601Milliseconds.format(ms: -5) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601Milliseconds.format(ms: .max) == "9999-12-31T23:59:59.999Z")
    }

    @Test func bufferedRandomIdsDiffer() {
        var random = BufferedRandom()
        let draws = (0..<2_000).map { _ in random.next() }
        #expect(Set(draws).count == draws.count)
        let ids = (0..<2_000).map { _ in UUIDv7.generate() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy(UUIDv7.isWellFormed))
    }
}
