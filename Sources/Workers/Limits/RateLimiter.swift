import SluiceCore

/// The pace of one deployment: requests per minute, tokens per minute and calls at once, from
/// the configuration, from the provider's own headers, and from its 429s.
///
/// A value type driven by explicit times, so that its arithmetic can be tested without a clock;
/// ``DeploymentLimiter`` shares one behind a lock.
///
/// Requests and tokens are paced by GCRA (a token bucket written as "theoretical arrival
/// times"): a call *reserves* its slot, so jobs waiting for the same deployment line up one
/// interval apart instead of all waking at the same moment and racing.
///
/// The effective request rate is the lowest of
/// - the configured `rpm` times this worker's fleet ``share``,
/// - the provider's `x-ratelimit-limit-requests` (or Anthropic's equivalent) times the share,
/// - the AIMD rate: unset until the first bare 429 (one without `Retry-After`, which instead
///   pauses the deployment for that long); then the rate the provider actually accepted just
///   before it, times ``decrease``; after that every success adds ``increasePerSuccess`` and
///   every further bare 429 (at most one per ``cutSpacingMs``) multiplies by ``decrease``. So
///   throughput converges just under the provider's real limit even when none is configured,
///   the configured one is wrong, and the provider sends no rate-limit headers.
///
/// Every number from a provider arrives already clamped (``RateLimitSnapshot``, ``RetryAfter``)
/// and is clamped again here before it becomes an interval.
struct RateLimiter: Sendable {
    /// What a caller may do now.
    enum Reservation: Equatable, Sendable {
        /// Call after `waitMs` (0: at once). The slot is taken: ``complete(_:nowMs:)`` must follow.
        case granted(waitMs: Int)
        /// No slot within the wait allowed; try again at `untilMs` (nothing is taken).
        case deferred(untilMs: Int64)
        /// All of `max_concurrency` calls are running; try again in a moment.
        case busy
    }

    /// How a call ended, for the limiter.
    enum Completion: Sendable {
        /// `tokens`: what the provider counted (prompt + completion), if it said.
        case success(tokens: Int?)
        /// 429 (or 529 overloaded): with the provider's `Retry-After`, if any.
        case rateLimited(retryAfterMs: Int?)
        /// Anything else (5xx, timeouts, the job's own 4xx): no lesson about the pace.
        case other
    }

    static let decrease = 0.85
    /// Requests per minute added per success: about 1 % of the rate per second at any rate.
    static let increasePerSuccess = 0.6
    static let cutSpacingMs: Int64 = 1_000
    /// The lowest pace AIMD goes down to: one request a minute.
    static let minimumRPM = 1.0
    /// A pause (Retry-After, `remaining: 0`) is never longer than this.
    static let maxPauseMs = 300_000
    /// Seconds of successes the goodput estimate looks back over.
    static let goodputWindowSeconds = 10

    var configured: LimitsConfiguration
    /// This process's part of the fleet's limit, in (0, 1].
    private(set) var share: Double = 1
    private(set) var learnedRPM: Double?
    private(set) var learnedTPM: Double?
    private(set) var aimdRPM: Double?
    private(set) var inFlight = 0
    /// While no pace is known (nothing configured, no headers, no 429 yet): calls at once, one
    /// more per success (TCP's slow start), so that the first burst against an unknown provider
    /// is a handful of calls, not `concurrency` of them; the first answers usually carry its limits.
    private(set) var slowStartWindow = Self.initialWindow
    static let initialWindow = 4
    private(set) var pausedUntilMs: Int64 = 0

    private var requestTAT: Double = 0
    private var tokenTAT: Double = 0
    private var deferTAT: Double = 0
    private var lastCutMs: Int64 = .min
    /// Successes per whole second, the last ``goodputWindowSeconds`` of them.
    private var successSeconds: [(second: Int64, count: Int)] = []

    init(configured: LimitsConfiguration) {
        self.configured = configured
    }

    // MARK: - Pace

    /// Requests per minute this process may send now; nil is no limit known.
    var effectiveRPM: Double? {
        let candidates = [configured.rpm.map { Double($0) * share }, learnedRPM.map { $0 * share }, aimdRPM]
        return candidates.compactMap { $0 }.min().map { max(Self.minimumRPM / 60, $0) }
    }

    /// Tokens per minute this process may use now; nil is no limit known.
    var effectiveTPM: Double? {
        [configured.tpm.map { Double($0) * share }, learnedTPM.map { $0 * share }].compactMap { $0 }.min().map { max(1, $0) }
    }

    /// - Parameter share: assigned jobs partitions / all jobs partitions; clamped into (0, 1].
    mutating func setShare(_ share: Double) {
        self.share = share.isFinite ? min(1, max(0.001, share)) : 1
    }

    // MARK: - Reserving

    /// Takes the next slot for a call of about `tokens` tokens if it comes within `maxWaitMs`.
    ///
    /// - Parameter spreading: a deferral also books a place in the line of deferred jobs (off
    ///   when the caller is only looking for a deployment that can take the call at once).
    mutating func reserve(tokens: Int, nowMs: Int64, maxWaitMs: Int, spreading: Bool = true) -> Reservation {
        if let max = configured.maxConcurrency, inFlight >= max { return .busy }
        if effectiveRPM == nil, inFlight >= slowStartWindow { return .busy }
        let now = Double(nowMs)
        let requestInterval = effectiveRPM.map { 60_000 / $0 } ?? 0
        let tokenInterval = effectiveTPM.map { 60_000 / $0 } ?? 0
        let tokenCost = tokenInterval * Double(max(0, min(tokens, Int(Int32.max))))
        // A second's worth of tokens may come at once; requests are spaced strictly, since a
        // provider's burst allowance is unknown.
        let tokenTolerance = tokenInterval > 0 ? 1_000.0 : 0
        // A pace not (yet) known puts no bound on the slot.
        let requestStart = requestInterval > 0 ? requestTAT : now
        let tokenStart = tokenInterval > 0 ? tokenTAT - tokenTolerance : now
        let slot = max(now, requestStart, tokenStart, Double(pausedUntilMs))
        if slot - now > Double(maxWaitMs) {
            guard spreading else { return .deferred(untilMs: Int64(min(slot, now + Double(Self.maxPauseMs)))) }
            // Spread the deferred ones over the slots after this, so that they come back one
            // interval apart, a little before their turn, rather than all at once.
            deferTAT = max(deferTAT, slot) + max(requestInterval, tokenCost)
            let until = deferTAT - Double(maxWaitMs) / 2
            return .deferred(untilMs: Int64(min(max(until, now + 1), now + Double(Self.maxPauseMs))))
        }
        requestTAT = requestInterval > 0 ? max(requestTAT, slot) + requestInterval : slot
        tokenTAT = tokenInterval > 0 ? max(tokenTAT, slot) + tokenCost : slot
        inFlight += 1
        return .granted(waitMs: Int(slot - now))
    }

    /// Gives back a granted slot that was never used (the job was cancelled or shut down).
    mutating func cancel() {
        inFlight = max(0, inFlight - 1)
    }

    // MARK: - Learning

    /// Ends a granted call: frees its concurrency slot and learns from the answer.
    ///
    /// - Parameters:
    ///   - estimatedTokens: what ``reserve(tokens:nowMs:maxWaitMs:)`` was told, corrected here
    ///     against the provider's count.
    mutating func complete(
        _ completion: Completion, estimatedTokens: Int, snapshot: RateLimitSnapshot?, nowMs: Int64
    ) {
        inFlight = max(0, inFlight - 1)
        if let snapshot { learn(snapshot, nowMs: nowMs) }
        switch completion {
        case .success(let tokens):
            countSuccess(nowMs: nowMs)
            if effectiveRPM == nil { slowStartWindow = min(slowStartWindow + 1, LimitsConfiguration.maxConcurrencyRange.upperBound) }
            if let tokens, let tpm = effectiveTPM {
                let delta = Double(max(0, min(tokens, Int(Int32.max)))) - Double(max(0, estimatedTokens))
                tokenTAT += delta * 60_000 / tpm
            }
            if let rpm = aimdRPM {
                // Never climb far past what is known to be allowed, nor forever while idle.
                let ceiling = [configured.rpm.map { Double($0) * share }, learnedRPM.map { $0 * share }].compactMap { $0 }.min()
                aimdRPM = min(rpm + Self.increasePerSuccess, ceiling ?? .greatestFiniteMagnitude)
            }
        case .rateLimited(let retryAfterMs):
            // A provider that says how long to wait is obeyed for the whole deployment; its
            // limit comes from its headers. A bare 429 is all AIMD has to go on.
            if let retryAfterMs {
                pause(forMs: retryAfterMs, nowMs: nowMs)
            } else {
                cut(nowMs: nowMs)
            }
        case .other:
            break
        }
    }

    /// The provider's own account: its limits (per minute, for the whole account) and, when
    /// nothing is left, how long until there is.
    mutating func learn(_ snapshot: RateLimitSnapshot, nowMs: Int64) {
        if let limit = snapshot.requestLimit, limit > 0 { learnedRPM = Double(min(limit, LimitsConfiguration.rpmRange.upperBound)) }
        if let limit = snapshot.tokenLimit, limit > 0 { learnedTPM = Double(min(limit, LimitsConfiguration.tpmRange.upperBound)) }
        if snapshot.requestsRemaining == 0 {
            // The reset is until the window is full again; one request frees up sooner.
            let oneRequestMs = learnedRPM.map { Int(60_000 / $0) + 1 } ?? 1_000
            pause(forMs: min(snapshot.requestsResetMs ?? oneRequestMs, oneRequestMs), nowMs: nowMs)
        }
        if snapshot.tokensRemaining == 0 {
            pause(forMs: snapshot.tokensResetMs ?? 1_000, nowMs: nowMs)
        }
    }

    mutating func pause(forMs ms: Int, nowMs: Int64) {
        let until = nowMs.addingReportingOverflow(Int64(min(max(0, ms), Self.maxPauseMs))).partialValue
        pausedUntilMs = max(pausedUntilMs, until)
    }

    /// Multiplicative decrease, at most once per ``cutSpacingMs``: the 429s of calls that were
    /// already on their way when the first came back are one signal, not many.
    private mutating func cut(nowMs: Int64) {
        guard nowMs.subtractingReportingOverflow(lastCutMs).partialValue >= Self.cutSpacingMs || lastCutMs == .min else { return }
        lastCutMs = nowMs
        let base: Double
        if let rpm = aimdRPM {
            base = rpm
        } else if let goodput = goodputRPM(nowMs: nowMs) {
            base = [goodput, effectiveRPM].compactMap { $0 }.min() ?? goodput
        } else if let rpm = effectiveRPM {
            base = rpm
        } else {
            // Nothing accepted yet and no pace known: halve the calls at once instead of
            // inventing a rate.
            slowStartWindow = max(1, slowStartWindow / 2)
            return
        }
        aimdRPM = max(Self.minimumRPM, base * Self.decrease)
    }

    private mutating func countSuccess(nowMs: Int64) {
        let second = nowMs / 1_000
        if let last = successSeconds.last, last.second == second {
            successSeconds[successSeconds.count - 1].count += 1
        } else {
            successSeconds.append((second, 1))
        }
        successSeconds.removeAll { second - $0.second >= Int64(Self.goodputWindowSeconds) }
    }

    /// Successes per minute over the recent window: what the provider really accepted.
    func goodputRPM(nowMs: Int64) -> Double? {
        let second = nowMs / 1_000
        let recent = successSeconds.filter { second - $0.second < Int64(Self.goodputWindowSeconds) }
        guard let first = recent.first else { return nil }
        let seconds = Double(max(1, min(Int64(Self.goodputWindowSeconds), second - first.second + 1)))
        return Double(recent.reduce(0) { $0 + $1.count }) / seconds * 60
    }
}
