import Foundation
import Hummingbird
import SluiceCore
import Synchronization

/// What the stub does to requests now, changeable while it runs (`POST /stub/faults`), so that
/// fault tests and the chaos run can start and end 503 bursts, 429 storms and hangs against
/// a running provider.
public struct StubFaults: Sendable, Hashable {
    /// Added before every answer that is not a rate-limit rejection, in milliseconds.
    public var latencyMs: Int
    /// A random extra delay drawn from ``latencyDistribution`` with this scale.
    public var latencyJitterMs: Int
    /// How the extra delay is drawn. Default: uniform.
    public var latencyDistribution: StubLatencyDistribution
    /// Fraction of valid requests answered `errorStatus` with the dialect's error body for it.
    public var errorRate: Double
    /// Any status from 400 to 599: 429, 500, 502, 503 and 529 are transient, 400, 401, 403,
    /// 404 and 422 permanent. Default: 500.
    public var errorStatus: Int
    /// Fraction of valid requests answered 200 with a truncated JSON body (a proxy cutting off
    /// an answer), after the latency. Default: 0.
    public var malformedRate: Double
    /// Fraction of requests answered 429 at once, with `Retry-After`.
    public var rateLimitRate: Double
    /// The `Retry-After` of a 429, in seconds.
    public var retryAfterSeconds: Int
    /// Fraction of valid requests that never get an answer (the client's timeout ends them).
    public var hangRate: Double
    /// The first this-many calls for each job id are answered 429 with `Retry-After`.
    public var failFirstCalls: Int
    /// Enforced requests per minute (see ``StubRateLimits``); 0 is none.
    public var rpm: Int
    /// Enforced tokens per minute; 0 is none.
    public var tpm: Int
    /// Whether answers carry the dialect's rate-limit headers (`retry-after` is always sent).
    public var rateLimitHeaders: Bool

    public init(
        latencyMs: Int = 0, latencyJitterMs: Int = 0, latencyDistribution: StubLatencyDistribution = .uniform,
        errorRate: Double = 0, errorStatus: Int = 500, malformedRate: Double = 0,
        rateLimitRate: Double = 0, retryAfterSeconds: Int = 1, hangRate: Double = 0, failFirstCalls: Int = 0,
        rpm: Int = 0, tpm: Int = 0, rateLimitHeaders: Bool = true
    ) {
        self.rpm = rpm
        self.tpm = tpm
        self.rateLimitHeaders = rateLimitHeaders
        self.latencyMs = latencyMs
        self.latencyJitterMs = latencyJitterMs
        self.latencyDistribution = latencyDistribution
        self.errorRate = errorRate
        self.errorStatus = errorStatus
        self.malformedRate = malformedRate
        self.rateLimitRate = rateLimitRate
        self.retryAfterSeconds = retryAfterSeconds
        self.hangRate = hangRate
        self.failFirstCalls = failFirstCalls
    }
}

/// How the stub draws the random part of its latency.
public enum StubLatencyDistribution: String, Sendable, Hashable, CaseIterable {
    /// 0…jitter, every value equally likely.
    case uniform
    /// Exponential with mean jitter, cut at 20 × jitter: mostly short, with the long tail real
    /// providers show.
    case exponential

    /// One draw, in milliseconds, for a scale of `jitterMs` (≥ 0).
    func draw(jitterMs: Int) -> Int {
        guard jitterMs > 0 else { return 0 }
        switch self {
        case .uniform:
            return Int.random(in: 0...jitterMs)
        case .exponential:
            // 1 - u lies in (0, 1], so the logarithm is finite.
            let u = Double.random(in: 0..<1)
            let draw = -Double(jitterMs) * log(1 - u)
            return Int(min(draw, Double(jitterMs) * 20))
        }
    }
}

/// The stub's mutable state: its current faults and how often each job was called.
final class StubState: Sendable {
    private struct State {
        var faults: StubFaults
        /// Calls per `X-Sluice-Job-Id` (what tests count duplicates with).
        var calls: [String: Int] = [:]
        var total = 0
    }

    private let state: Mutex<State>

    init(faults: StubFaults) {
        state = Mutex(State(faults: faults))
    }

    var faults: StubFaults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    /// Counts one call; returns how many calls this job has had, this one included.
    func recordCall(jobID: String?) -> Int {
        state.withLock { s in
            s.total += 1
            guard let jobID else { return s.total }
            s.calls[jobID, default: 0] += 1
            return s.calls[jobID]!
        }
    }

    var calls: (perJob: [String: Int], total: Int) {
        state.withLock { ($0.calls, $0.total) }
    }
}

// MARK: - JSON (the `/stub/faults` admin endpoint)

extension StubFaults {
    /// Applies the fields present in `fields`; a field of the wrong type or out of range is
    /// refused with 400 and nothing changes.
    mutating func update(from fields: [String: JSONValue]) throws {
        var copy = self
        func int(_ key: String, _ range: ClosedRange<Int64>) throws -> Int? {
            guard let value = fields[key] else { return nil }
            guard let i = value.intValue, range.contains(i) else { throw HTTPError(.badRequest, message: "\(key) must be an integer in \(range)") }
            return Int(i)
        }
        func rate(_ key: String) throws -> Double? {
            guard let value = fields[key] else { return nil }
            let d: Double
            switch value {
            case .int(let i): d = Double(i)
            case .double(let x): d = x
            default: throw HTTPError(.badRequest, message: "\(key) must be a number in 0...1")
            }
            guard (0...1).contains(d) else { throw HTTPError(.badRequest, message: "\(key) must be a number in 0...1") }
            return d
        }
        if let v = try int("latency_ms", 0...600_000) { copy.latencyMs = v }
        if let v = try int("latency_jitter_ms", 0...600_000) { copy.latencyJitterMs = v }
        if let v = try int("error_status", 400...599) { copy.errorStatus = v }
        if let v = try int("retry_after_seconds", 0...86_400) { copy.retryAfterSeconds = v }
        if let v = try int("fail_first_calls", 0...1_000) { copy.failFirstCalls = v }
        if let v = try int("rpm", 0...100_000_000) { copy.rpm = v }
        if let v = try int("tpm", 0...100_000_000_000) { copy.tpm = v }
        if let value = fields["rate_limit_headers"] {
            guard case .bool(let b) = value else { throw HTTPError(.badRequest, message: "rate_limit_headers must be true or false") }
            copy.rateLimitHeaders = b
        }
        if let v = try rate("error_rate") { copy.errorRate = v }
        if let v = try rate("rate_limit_rate") { copy.rateLimitRate = v }
        if let v = try rate("hang_rate") { copy.hangRate = v }
        if let v = try rate("malformed_rate") { copy.malformedRate = v }
        if let value = fields["latency_distribution"] {
            guard let name = value.stringValue, let distribution = StubLatencyDistribution(rawValue: name) else {
                throw HTTPError(.badRequest, message: "latency_distribution must be uniform or exponential")
            }
            copy.latencyDistribution = distribution
        }
        self = copy
    }

    var json: JSONValue {
        [
            "latency_ms": .int(Int64(latencyMs)), "latency_jitter_ms": .int(Int64(latencyJitterMs)),
            "error_rate": .double(errorRate), "error_status": .int(Int64(errorStatus)),
            "rate_limit_rate": .double(rateLimitRate), "retry_after_seconds": .int(Int64(retryAfterSeconds)),
            "hang_rate": .double(hangRate), "fail_first_calls": .int(Int64(failFirstCalls)),
            "malformed_rate": .double(malformedRate), "latency_distribution": .string(latencyDistribution.rawValue),
            "rpm": .int(Int64(rpm)), "tpm": .int(Int64(tpm)), "rate_limit_headers": .bool(rateLimitHeaders),
        ]
    }
}
