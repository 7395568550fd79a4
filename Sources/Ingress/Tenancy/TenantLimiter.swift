import Foundation
import HTTPTypes
import Logging
import SluiceCore
import Synchronization

/// Per-tenant limits at the ingress: a token bucket for requests per second, and jobs in
/// flight, tokens per day and the monthly budget from the ledger's counts.
///
/// The ledger's counts are read at most once a second per tenant; between reads, what this
/// process reserved is added on top, so a burst cannot slip past a limit while the ledger
/// catches up. A reservation is released when the job could not be queued.
final class TenantLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var atMs: Int64
    }

    private struct Counted {
        var usage: TenantUsage
        var readAtMs: Int64
        var day: String
        /// Jobs and tokens this process reserved since `usage` was read.
        var jobsSince = 0
        var tokensSince: Int64 = 0
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var counted: [String: Counted] = [:]
        /// Token estimates not yet written to the ledger: day → tenant → tokens.
        var unflushed: [String: [String: Int64]] = [:]
    }

    private let state = Mutex(State())
    private let directory: (any TenantDirectory)?
    /// How old the ledger's counts may be before they are read again.
    static let usageMaxAgeMs: Int64 = 1_000

    init(directory: (any TenantDirectory)?) {
        self.directory = directory
    }

    /// What was reserved, for ``release(_:)``.
    struct Reservation: Sendable {
        var tenant: String
        var tokens: Int64
        var day: String
    }

    /// Admits one job or throws the 429 to answer, with `Retry-After`.
    ///
    /// - Throws: `APIError` 429 naming the limit; 503 when the ledger cannot be read and a
    ///   ledger-backed limit is set (admitting anyway could overspend).
    func admit(tenant: String, limits: TenantLimits, estimatedTokens: Int64, nowMs: Int64) async throws(APIError) -> Reservation {
        let day = Self.day(nowMs)
        try takeRequestToken(tenant: tenant, limits: limits, nowMs: nowMs)
        let ledgerBacked = limits.maxInFlight != nil || limits.tokensPerDay != nil || limits.monthlyBudget != nil
        if ledgerBacked {
            let fresh = state.withLock { s in
                s.counted[tenant].map { $0.day == day && nowMs - $0.readAtMs < Self.usageMaxAgeMs && $0.readAtMs <= nowMs } ?? false
            }
            if !fresh {
                let usage: TenantUsage
                if let directory {
                    do {
                        usage = try await directory.usage(tenant: tenant, day: day, monthStartMs: Self.monthStartMs(nowMs))
                    } catch {
                        throw APIError.ledgerUnavailable(retryAfter: 2)
                    }
                } else {
                    usage = TenantUsage()
                }
                state.withLock { s in
                    let pending = s.unflushed[day]?[tenant] ?? 0
                    var counted = Counted(usage: usage, readAtMs: nowMs, day: day)
                    // Tokens this process counted but has not written yet are still ours.
                    counted.tokensSince = pending
                    s.counted[tenant] = counted
                }
            }
        }
        return try state.withLock { s throws(APIError) in
            var counted = s.counted[tenant] ?? Counted(usage: TenantUsage(), readAtMs: nowMs, day: day)
            if let max = limits.maxInFlight, counted.usage.inFlight + counted.jobsSince >= max {
                throw Self.tooMany("too_many_jobs_in_flight", "Tenant '\(tenant)' has \(max) jobs in flight, its limit; retry when some finish.", retryAfter: 1)
            }
            if let perDay = limits.tokensPerDay {
                let used = counted.usage.tokensToday.addingSaturating(counted.tokensSince)
                if used.addingSaturating(estimatedTokens) > Int64(perDay) {
                    throw Self.tooMany(
                        "daily_token_limit", "Tenant '\(tenant)' would pass its limit of \(perDay) tokens today (UTC).",
                        retryAfter: Self.secondsUntil(Self.nextDayMs(nowMs), nowMs: nowMs))
                }
            }
            if let budget = limits.monthlyBudget, counted.usage.monthCost >= budget {
                throw Self.tooMany(
                    "budget_exceeded", "Tenant '\(tenant)' has spent its monthly budget of \(budget); nothing more is queued this month.",
                    retryAfter: Self.secondsUntil(Self.nextMonthMs(nowMs), nowMs: nowMs))
            }
            counted.jobsSince += 1
            counted.tokensSince = counted.tokensSince.addingSaturating(estimatedTokens)
            s.counted[tenant] = counted
            s.unflushed[day, default: [:]][tenant, default: 0] = (s.unflushed[day]?[tenant] ?? 0).addingSaturating(estimatedTokens)
            return Reservation(tenant: tenant, tokens: estimatedTokens, day: day)
        }
    }

    /// Gives back a reservation whose job was not queued.
    func release(_ reservation: Reservation) {
        state.withLock { s in
            if var counted = s.counted[reservation.tenant], counted.day == reservation.day {
                counted.jobsSince = max(0, counted.jobsSince - 1)
                counted.tokensSince = max(0, counted.tokensSince - reservation.tokens)
                s.counted[reservation.tenant] = counted
            }
            if let pending = s.unflushed[reservation.day]?[reservation.tenant] {
                s.unflushed[reservation.day]?[reservation.tenant] = max(0, pending - reservation.tokens)
            }
        }
    }

    /// Writes the token estimates counted since the last flush; on failure they are kept for
    /// the next one.
    func flush(to directory: any TenantDirectory, logger: Logger) async {
        let taken = state.withLock { s in
            let taken = s.unflushed
            s.unflushed = [:]
            return taken
        }
        for (day, tokens) in taken {
            do {
                try await directory.recordTokens(tokens, day: day)
            } catch {
                logger.warning("cannot record token estimates in the ledger; keeping them", metadata: ["error": "\(error)"])
                state.withLock { s in
                    for (tenant, count) in tokens {
                        s.unflushed[day, default: [:]][tenant, default: 0] = (s.unflushed[day]?[tenant] ?? 0).addingSaturating(count)
                    }
                }
            }
        }
    }

    // MARK: - Requests per second

    private func takeRequestToken(tenant: String, limits: TenantLimits, nowMs: Int64) throws(APIError) {
        guard let rate = limits.requestsPerSecond, rate.isFinite, rate > 0 else { return }
        let capacity = Double(max(1, limits.burst ?? Int(rate.rounded(.up))))
        let wait: Double? = state.withLock { s in
            var bucket = s.buckets[tenant] ?? Bucket(tokens: capacity, atMs: nowMs)
            let elapsed = Double(max(0, nowMs - bucket.atMs)) / 1_000
            bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
            bucket.atMs = max(bucket.atMs, nowMs)
            defer { s.buckets[tenant] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
        if let wait {
            throw Self.tooMany(
                "rate_limited", "Tenant '\(tenant)' sends more than \(rate) requests per second; slow down.",
                retryAfter: Int(min(86_400, max(1, wait.rounded(.up)))))
        }
    }

    // MARK: - Helpers

    static func tooMany(_ code: String, _ message: String, retryAfter: Int) -> APIError {
        APIError(status: .tooManyRequests, type: "rate_limit_error", code: code, message: message, retryAfterSeconds: retryAfter)
    }

    /// `YYYY-MM-DD` of `ms` in UTC.
    /// The UTC day of `ms`, `YYYY-MM-DD`. Called for every job: a Unix day is exactly
    /// 86,400,000 ms, so the day's index finds the last name made and `Calendar` (several
    /// microseconds on Linux) runs once a day rather than once a request.
    static func day(_ ms: Int64) -> String {
        let index = ms >= 0 ? ms / 86_400_000 : (ms + 1) / 86_400_000 - 1
        if let cached = dayNames.withLock({ $0.index == index ? $0.name : nil }) { return cached }
        let c = utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(ms) / 1_000))
        let name = String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
        dayNames.withLock { $0 = (index, name) }
        return name
    }

    private static let dayNames = Mutex<(index: Int64, name: String)>((Int64.min, ""))

    static func monthStartMs(_ ms: Int64) -> Int64 {
        let c = utc.dateComponents([.year, .month], from: Date(timeIntervalSince1970: Double(ms) / 1_000))
        return milliseconds(utc.date(from: c)) ?? 0
    }

    static func nextMonthMs(_ ms: Int64) -> Int64 {
        let start = Date(timeIntervalSince1970: Double(monthStartMs(ms)) / 1_000)
        return milliseconds(utc.date(byAdding: .month, value: 1, to: start)) ?? ms.addingSaturating(86_400_000)
    }

    static func nextDayMs(_ ms: Int64) -> Int64 {
        let day: Int64 = 86_400_000
        return (ms / day + 1) * day
    }

    static func secondsUntil(_ targetMs: Int64, nowMs: Int64) -> Int {
        Int(min(40 * 86_400, max(1, (targetMs - nowMs + 999) / 1_000)))
    }

    private static func milliseconds(_ date: Date?) -> Int64? {
        guard let date else { return nil }
        return Int64(exactly: (date.timeIntervalSince1970 * 1_000).rounded())
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }()
}

extension Int64 {
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
