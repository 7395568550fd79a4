import HTTPTypes
import SluiceCore
import Synchronization

/// The stub's enforced requests-per-minute and tokens-per-minute limits, answered like the real
/// providers answer them: 429 with the dialect's rate-limit headers and `retry-after`, and the
/// same headers on every successful answer (OpenAI `x-ratelimit-*`, Anthropic
/// `anthropic-ratelimit-*`; Gemini sends none).
///
/// Each limit is a token bucket refilled continuously at limit/60 per second and holding one
/// second's worth: providers state limits per minute but enforce them over shorter periods, so
/// a client cannot spend a minute's allowance in one burst. It also counts what it answered,
/// so that tests can compare 429s and the achieved rate with the limit from the stub's own
/// numbers.
final class StubRateLimits: Sendable {
    /// A rejection: the headers to send with the 429.
    struct Rejection: Sendable {
        var headers: HTTPFields
        var retryAfterMs: Int
    }

    fileprivate struct Bucket {
        var level: Double
        var lastMs: Int64

        /// Refills to `nowMs` at `perMinute`/60 per second, up to one second's worth.
        mutating func refill(perMinute: Int, nowMs: Int64) {
            let elapsed = Double(max(0, nowMs - lastMs))
            lastMs = nowMs
            level = min(Self.capacity(perMinute), level + elapsed * Double(perMinute) / 60_000)
        }

        static func capacity(_ perMinute: Int) -> Double { max(1, Double(perMinute) / 60) }

        /// Milliseconds until `amount` is available (0 if it is).
        func waitMs(for amount: Double, perMinute: Int) -> Int {
            let missing = min(amount, Self.capacity(perMinute)) - level
            return missing <= 0 ? 0 : Int((missing * 60_000 / Double(perMinute)).rounded(.up))
        }

        /// Until the bucket is full again.
        func resetMs(perMinute: Int) -> Int {
            Int(((Self.capacity(perMinute) - level) * 60_000 / Double(perMinute)).rounded(.up))
        }
    }

    fileprivate struct State {
        var requests: Bucket?
        var tokens: Bucket?
        var limits: (rpm: Int, tpm: Int) = (0, 0)
        var rateLimited = 0
        var succeeded = 0
        var firstSuccessMs: Int64?
        var lastSuccessMs: Int64?
    }

    private let state = Mutex(State())

    /// Takes one request from the RPM bucket, or says why not.
    func admitRequest(_ faults: StubFaults, dialect: some StubDialect, nowMs: Int64) -> Rejection? {
        state.withLock { s in
            s.configure(faults, nowMs: nowMs)
            guard faults.rpm > 0, var bucket = s.requests else { return nil }
            bucket.refill(perMinute: faults.rpm, nowMs: nowMs)
            defer { s.requests = bucket }
            if bucket.level >= 1 {
                bucket.level -= 1
                return nil
            }
            s.rateLimited += 1
            s.requests = bucket
            let wait = bucket.waitMs(for: 1, perMinute: faults.rpm)
            return Rejection(headers: s.headers(dialect, faults, nowMs: nowMs, retryAfterMs: wait), retryAfterMs: wait)
        }
    }

    /// Takes a request's tokens (prompt + completion) from the TPM bucket, or says why not.
    func admitTokens(_ count: Int, _ faults: StubFaults, dialect: some StubDialect, nowMs: Int64) -> Rejection? {
        state.withLock { s in
            s.configure(faults, nowMs: nowMs)
            guard faults.tpm > 0, var bucket = s.tokens else { return nil }
            bucket.refill(perMinute: faults.tpm, nowMs: nowMs)
            defer { s.tokens = bucket }
            // A request larger than the bucket can ever hold is let through once it is full,
            // rather than never.
            let cost = min(Double(max(0, count)), Bucket.capacity(faults.tpm))
            if bucket.level >= cost {
                bucket.level -= Double(max(0, count))
                return nil
            }
            s.rateLimited += 1
            s.tokens = bucket
            let wait = bucket.waitMs(for: cost, perMinute: faults.tpm)
            return Rejection(headers: s.headers(dialect, faults, nowMs: nowMs, retryAfterMs: wait), retryAfterMs: wait)
        }
    }

    /// The rate-limit headers of a successful answer; counts the success.
    func successHeaders(_ faults: StubFaults, dialect: some StubDialect, nowMs: Int64) -> HTTPFields {
        state.withLock { s in
            s.succeeded += 1
            if s.firstSuccessMs == nil { s.firstSuccessMs = nowMs }
            s.lastSuccessMs = nowMs
            return s.headers(dialect, faults, nowMs: nowMs, retryAfterMs: nil)
        }
    }

    /// For `GET /stub/calls`.
    var json: [String: JSONValue] {
        state.withLock { s in
            var fields: [String: JSONValue] = ["rate_limited": .int(Int64(s.rateLimited)), "succeeded": .int(Int64(s.succeeded))]
            if let first = s.firstSuccessMs { fields["first_success_ms"] = .int(first) }
            if let last = s.lastSuccessMs { fields["last_success_ms"] = .int(last) }
            return fields
        }
    }
}

extension StubRateLimits.State {
    /// (Re)starts the buckets, full, when a limit is set or changed.
    fileprivate mutating func configure(_ faults: StubFaults, nowMs: Int64) {
        guard limits != (faults.rpm, faults.tpm) else { return }
        limits = (faults.rpm, faults.tpm)
        requests = faults.rpm > 0 ? .init(level: .init(max(1, Double(faults.rpm) / 60)), lastMs: nowMs) : nil
        tokens = faults.tpm > 0 ? .init(level: .init(max(1, Double(faults.tpm) / 60)), lastMs: nowMs) : nil
    }

    /// The dialect's rate-limit headers for the buckets' state now, plus `retry-after` on a 429.
    fileprivate mutating func headers(_ dialect: some StubDialect, _ faults: StubFaults, nowMs: Int64, retryAfterMs: Int?) -> HTTPFields {
        var fields = HTTPFields()
        func set(_ name: String, _ value: String) {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        if let retryAfterMs {
            // Whole seconds, rounded up (RFC 9110); the exact value where the dialect has one.
            set("retry-after", "\(max(1, (retryAfterMs + 999) / 1_000))")
            if dialect is OpenAIDialect { set("retry-after-ms", "\(retryAfterMs)") }
        }
        guard faults.rateLimitHeaders else { return fields }
        if faults.rpm > 0 { requests?.refill(perMinute: faults.rpm, nowMs: nowMs) }
        if faults.tpm > 0 { tokens?.refill(perMinute: faults.tpm, nowMs: nowMs) }
        // The bucket holds a second's worth; "remaining" is reported on the per-minute scale,
        // so a client sees the minute's limit and 0 exactly when it is being held back.
        func remaining(_ bucket: StubRateLimits.Bucket?, _ perMinute: Int) -> Int {
            guard let bucket else { return perMinute }
            guard bucket.level >= 1 else { return 0 }
            return Int((bucket.level / StubRateLimits.Bucket.capacity(perMinute) * Double(perMinute)).rounded(.down))
        }
        if dialect is OpenAIDialect {
            if faults.rpm > 0 {
                set("x-ratelimit-limit-requests", "\(faults.rpm)")
                set("x-ratelimit-remaining-requests", "\(remaining(requests, faults.rpm))")
                set("x-ratelimit-reset-requests", "\(requests?.resetMs(perMinute: faults.rpm) ?? 0)ms")
            }
            if faults.tpm > 0 {
                set("x-ratelimit-limit-tokens", "\(faults.tpm)")
                set("x-ratelimit-remaining-tokens", "\(max(0, remaining(tokens, faults.tpm)))")
                set("x-ratelimit-reset-tokens", "\(tokens?.resetMs(perMinute: faults.tpm) ?? 0)ms")
            }
        } else if dialect is AnthropicDialect {
            // Anthropic gives resets as RFC 3339 instants.
            func instant(_ ms: Int) -> String { StubRateLimits.rfc3339(nowMs + Int64(ms)) }
            if faults.rpm > 0 {
                set("anthropic-ratelimit-requests-limit", "\(faults.rpm)")
                set("anthropic-ratelimit-requests-remaining", "\(remaining(requests, faults.rpm))")
                set("anthropic-ratelimit-requests-reset", instant(requests?.resetMs(perMinute: faults.rpm) ?? 0))
            }
            if faults.tpm > 0 {
                set("anthropic-ratelimit-tokens-limit", "\(faults.tpm)")
                set("anthropic-ratelimit-tokens-remaining", "\(max(0, remaining(tokens, faults.tpm)))")
                set("anthropic-ratelimit-tokens-reset", instant(tokens?.resetMs(perMinute: faults.tpm) ?? 0))
            }
        }
        return fields
    }
}

extension StubRateLimits {
    /// `2026-12-03T13:48:38Z` for a Unix time in ms (UTC, whole seconds rounded up).
    static func rfc3339(_ ms: Int64) -> String {
        let seconds = (max(0, ms) + 999) / 1_000
        let days = seconds / 86_400
        let rest = seconds % 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3_600)):\(two(rest % 3_600 / 60)):\(two(rest % 60))Z"
    }
}
