import SluiceCore
import Synchronization

/// The shared pace and health of one deployment in this process: its ``RateLimiter`` and
/// ``CircuitBreaker`` behind one lock, used by every caller of the worker pool.
final class DeploymentLimiter: Sendable {
    /// A call's claim on the deployment, handed back through ``complete(_:_:snapshot:nowMs:)``.
    struct Ticket: Sendable {
        let permit: CircuitBreaker.Permit
        let estimatedTokens: Int
    }

    /// What a caller may do now.
    enum Admission: Sendable {
        /// Call after `waitMs` with this ticket.
        case granted(Ticket, waitMs: Int)
        /// The breaker is open (until `untilMs`): take another deployment, or wait.
        case down(untilMs: Int64)
        /// No capacity within the local wait; come back at `untilMs`.
        case deferred(untilMs: Int64)
        /// Every concurrency slot is taken.
        case busy
    }

    private struct State {
        var limiter: RateLimiter
        var breaker: CircuitBreaker
    }

    let deployment: ProviderDeployment
    private let state: Mutex<State>

    init(deployment: ProviderDeployment, breaker: BreakerConfiguration) {
        self.deployment = deployment
        self.state = Mutex(State(limiter: RateLimiter(configured: deployment.limits), breaker: CircuitBreaker(configuration: breaker)))
    }

    func isAvailable(nowMs: Int64) -> Bool {
        state.withLock { $0.breaker.isAvailable(nowMs: nowMs) }
    }

    /// Calls running now relative to the concurrency limit (or to 1,000 without one), for
    /// `least-busy`.
    func load() -> Double {
        state.withLock { s in Double(s.limiter.inFlight) / Double(s.limiter.configured.maxConcurrency ?? 1_000) }
    }

    func setShare(_ share: Double) {
        state.withLock { $0.limiter.setShare(share) }
    }

    /// Asks the breaker, then the limiter. A probe that finds no rate capacity is given back.
    func admit(tokens: Int, nowMs: Int64, maxWaitMs: Int, spreading: Bool = true) -> Admission {
        state.withLock { s in
            guard let permit = s.breaker.permit(nowMs: nowMs) else {
                return .down(untilMs: s.breaker.reopensAtMs(nowMs: nowMs) ?? nowMs + 500)
            }
            switch s.limiter.reserve(tokens: tokens, nowMs: nowMs, maxWaitMs: maxWaitMs, spreading: spreading) {
            case .granted(let waitMs):
                return .granted(Ticket(permit: permit, estimatedTokens: tokens), waitMs: waitMs)
            case .deferred(let until):
                s.breaker.record(.neutral, permit: permit, nowMs: nowMs)
                return .deferred(untilMs: until)
            case .busy:
                s.breaker.record(.neutral, permit: permit, nowMs: nowMs)
                return .busy
            }
        }
    }

    /// Gives back a ticket that was never used.
    func cancel(_ ticket: Ticket, nowMs: Int64) {
        state.withLock { s in
            s.limiter.cancel()
            s.breaker.record(.neutral, permit: ticket.permit, nowMs: nowMs)
        }
    }

    func complete(
        _ ticket: Ticket, _ outcome: ProviderOutcome, snapshot: RateLimitSnapshot?, nowMs: Int64
    ) {
        let (completion, health) = Self.classify(outcome)
        state.withLock { s in
            s.limiter.complete(completion, estimatedTokens: ticket.estimatedTokens, snapshot: snapshot, nowMs: nowMs)
            s.breaker.record(health, permit: ticket.permit, nowMs: nowMs)
        }
    }

    /// What an outcome teaches the limiter and the breaker.
    static func classify(_ outcome: ProviderOutcome) -> (RateLimiter.Completion, CircuitBreaker.Result) {
        switch outcome {
        case .success(_, let usage):
            return (.success(tokens: usage?.totalTokens), .success)
        case .retriable(let error, let retryAfterMs):
            if error.providerStatus == 429 { return (.rateLimited(retryAfterMs: retryAfterMs), .neutral) }
            // 529 is Anthropic's "overloaded": back off like a 429 and count it against health.
            if error.providerStatus == 529 { return (.rateLimited(retryAfterMs: retryAfterMs), .failure) }
            return (.other, .failure)
        case .permanent:
            return (.other, .neutral)
        }
    }

    /// For tests and logs.
    var snapshot: (limiter: RateLimiter, breaker: CircuitBreaker.State) {
        state.withLock { ($0.limiter, $0.breaker.state) }
    }
}
