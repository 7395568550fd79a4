import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// Answers one chat request in any dialect: faults first, then validation, latency, success.
///
/// The order mirrors real providers: a rate-limited request is turned away before its body
/// is even read, a bad body fails fast, and only accepted work takes the model's time (and
/// may then fail with a 500).
struct StubResponder: Sendable {
    let state: StubState
    let limits: StubRateLimits

    /// The header naming the job a call is for (Sluice's workers send it).
    static let jobIDHeader = HTTPField.Name("X-Sluice-Job-Id")!

    /// Bodies above this are answered 413 by Hummingbird; real providers cap requests too.
    private static let maxBodyBytes = 8 << 20

    func respond(_ dialect: some StubDialect, to request: Request, pathModel: String? = nil) async throws -> Response {
        let faults = state.faults
        let call = state.recordCall(jobID: request.headers[Self.jobIDHeader])
        // Rate-limit enforcement (requests and tokens per minute) belongs here, before the body
        // is read, as real providers turn such requests away first.
        if call <= faults.failFirstCalls || Self.roll(faults.rateLimitRate) {
            let seconds = max(0, faults.retryAfterSeconds)
            return Self.json(
                .tooManyRequests, dialect.errorBody(.rateLimited(retryAfterSeconds: seconds)),
                extra: [.retryAfter: "\(seconds)"])
        }
        if let rejection = limits.admitRequest(faults, dialect: dialect, nowMs: WallClock.system.nowMs()) {
            return Self.json(.tooManyRequests, dialect.errorBody(.rateLimited(retryAfterSeconds: (rejection.retryAfterMs + 999) / 1_000)), extra: rejection.headers)
        }
        let buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        let chat: StubChatRequest
        do throws(StubRequestError) {
            chat = try Self.parse(Array(buffer.readableBytesView), with: dialect, pathModel: pathModel)
        } catch {
            return Self.json(.badRequest, dialect.errorBody(.invalidRequest(error)))
        }
        if Self.roll(faults.hangRate) {
            // Never answers: only the client's timeout (or its going away) ends this.
            try await Task.sleep(for: .seconds(3_600))
        }
        try await delay(faults)
        if Self.roll(faults.errorRate) {
            let seconds = max(0, faults.retryAfterSeconds)
            let fault = StubFault.injected(faults.errorStatus, retryAfterSeconds: seconds)
            var extra: HTTPFields = [:]
            if faults.errorStatus == 429 || faults.errorStatus == 503 || faults.errorStatus == 529 { extra[.retryAfter] = "\(seconds)" }
            return Self.json(.init(code: faults.errorStatus), dialect.errorBody(fault), extra: extra)
        }
        let completion = chat.complete()
        if let rejection = limits.admitTokens(completion.totalTokens, faults, dialect: dialect, nowMs: WallClock.system.nowMs()) {
            return Self.json(.tooManyRequests, dialect.errorBody(.rateLimited(retryAfterSeconds: (rejection.retryAfterMs + 999) / 1_000)), extra: rejection.headers)
        }
        let headers = limits.successHeaders(faults, dialect: dialect, nowMs: WallClock.system.nowMs())
        let answer = try dialect.answer(chat, completion: completion)
        if Self.roll(faults.malformedRate) {
            // Cut mid-answer, as a proxy or a dropped stream would: never valid JSON.
            return Self.json(.ok, Array(answer.prefix(max(1, answer.count / 2))), extra: headers)
        }
        return Self.json(.ok, answer, extra: headers)
    }

    // MARK: - Steps

    private static func parse(
        _ bytes: [UInt8], with dialect: some StubDialect, pathModel: String?
    ) throws(StubRequestError) -> StubChatRequest {
        guard let body = try? Wire.decode(JSONValue.self, from: bytes), case .object = body else {
            throw StubRequestError(
                message: "We could not parse the JSON body of your request. The request body must be a JSON object.",
                param: nil)
        }
        return try dialect.parse(body, pathModel: pathModel)
    }

    private func delay(_ faults: StubFaults) async throws {
        let jitter = faults.latencyDistribution.draw(jitterMs: max(0, faults.latencyJitterMs))
        let total = max(0, faults.latencyMs) + jitter
        if total > 0 { try await Task.sleep(for: .milliseconds(total)) }
    }

    /// True with probability `rate`; exactly 0 and 1 are never and always, for tests.
    private static func roll(_ rate: Double) -> Bool {
        if rate <= 0 { return false }
        if rate >= 1 { return true }
        return Double.random(in: 0..<1) < rate
    }

    private static func json(_ status: HTTPResponse.Status, _ body: [UInt8], extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
