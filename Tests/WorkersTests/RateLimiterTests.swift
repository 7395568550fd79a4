import SluiceCore
import Testing

@testable import Workers

@Suite("Deployment rate limiter")
struct RateLimiterTests {
    @Test("a configured rpm spaces calls one interval apart; past the local wait they are deferred, spread out")
    func spacing() {
        var limiter = RateLimiter(configured: LimitsConfiguration(rpm: 600))
        var waits: [Int] = []
        for _ in 0..<5 {
            if case .granted(let wait) = limiter.reserve(tokens: 10, nowMs: 1_000, maxWaitMs: 450) { waits.append(wait) }
        }
        #expect(waits == [0, 100, 200, 300, 400])
        guard case .deferred(let first) = limiter.reserve(tokens: 10, nowMs: 1_000, maxWaitMs: 450),
            case .deferred(let second) = limiter.reserve(tokens: 10, nowMs: 1_000, maxWaitMs: 450)
        else {
            Issue.record("expected deferrals")
            return
        }
        #expect(first > 1_000 && second - first == 100, "deferred jobs come back one interval apart")
    }

    @Test("the fleet share divides the limit; max_concurrency makes it busy")
    func shareAndConcurrency() {
        var limiter = RateLimiter(configured: LimitsConfiguration(rpm: 600, maxConcurrency: 2))
        limiter.setShare(0.5)
        #expect(limiter.effectiveRPM == 300)
        #expect(limiter.reserve(tokens: 1, nowMs: 0, maxWaitMs: 10_000) == .granted(waitMs: 0))
        #expect(limiter.reserve(tokens: 1, nowMs: 0, maxWaitMs: 10_000) == .granted(waitMs: 200))
        #expect(limiter.reserve(tokens: 1, nowMs: 0, maxWaitMs: 10_000) == .busy)
        limiter.complete(.success(tokens: 1), estimatedTokens: 1, snapshot: nil, nowMs: 50)
        #expect(limiter.reserve(tokens: 1, nowMs: 50, maxWaitMs: 10_000) == .granted(waitMs: 350))
        limiter.setShare(.nan)
        #expect(limiter.share == 1)
        limiter.setShare(-3)
        #expect(limiter.share > 0)
    }

    @Test("tokens per minute: the estimate is paced and corrected by the provider's count")
    func tokens() {
        var limiter = RateLimiter(configured: LimitsConfiguration(tpm: 60_000))  // 1 token per ms
        #expect(limiter.reserve(tokens: 3_000, nowMs: 0, maxWaitMs: 60_000) == .granted(waitMs: 0))
        // 3,000 tokens reserved, a second's worth may come at once: the next waits 2 s.
        #expect(limiter.reserve(tokens: 10, nowMs: 0, maxWaitMs: 60_000) == .granted(waitMs: 2_000))
        // The first call really used 1,000: 2,000 tokens come back.
        limiter.complete(.success(tokens: 1_000), estimatedTokens: 3_000, snapshot: nil, nowMs: 0)
        #expect(limiter.reserve(tokens: 10, nowMs: 0, maxWaitMs: 60_000) == .granted(waitMs: 10))
    }

    @Test("headers teach the limit; remaining 0 pauses until one request frees; Retry-After pauses")
    func headers() {
        var limiter = RateLimiter(configured: LimitsConfiguration())
        #expect(limiter.effectiveRPM == nil)
        limiter.learn(RateLimitSnapshot(requestLimit: 600, requestsRemaining: 0, requestsResetMs: 60_000, tokenLimit: 120_000), nowMs: 0)
        #expect(limiter.effectiveRPM == 600 && limiter.effectiveTPM == 120_000)
        #expect(limiter.pausedUntilMs == 101, "60 s until full, but one request frees in 100 ms")
        limiter.complete(.rateLimited(retryAfterMs: 5_000), estimatedTokens: 0, snapshot: nil, nowMs: 0)
        #expect(limiter.pausedUntilMs == 5_000)
        #expect(limiter.aimdRPM == nil, "a 429 with Retry-After pauses; it does not cut the rate")
        limiter.complete(.rateLimited(retryAfterMs: Int.max), estimatedTokens: 0, snapshot: nil, nowMs: 2_000)
        #expect(limiter.pausedUntilMs == 2_000 + Int64(RateLimiter.maxPauseMs), "absurd waits are capped")
        guard case .deferred = limiter.reserve(tokens: 0, nowMs: 3_000, maxWaitMs: 1_000) else {
            Issue.record("a paused deployment defers")
            return
        }
    }

    /// A provider that allows `limitRPM` (a one-second bucket, like the stub) and answers after
    /// `latencyMs`; the limiter knows nothing of the limit and sees no headers.
    private func simulate(limitRPM: Int, seconds: Int, latencyMs: Int64 = 50) -> (requests: Int, limited: Int, acceptedLastHalf: Int) {
        var limiter = RateLimiter(configured: LimitsConfiguration(maxConcurrency: 64))
        var level = Double(limitRPM) / 60
        var lastRefill: Int64 = 0
        var pending: [(dueMs: Int64, ok: Bool, retryAfterMs: Int)] = []
        var requests = 0, limited = 0, acceptedLastHalf = 0
        let endMs = Int64(seconds) * 1_000
        var now: Int64 = 0
        while now < endMs {
            // Answers due now.
            pending.sort { $0.dueMs < $1.dueMs }
            while let first = pending.first, first.dueMs <= now {
                pending.removeFirst()
                // Bare 429s: no Retry-After, no headers; AIMD alone.
                let completion: RateLimiter.Completion = first.ok ? .success(tokens: nil) : .rateLimited(retryAfterMs: nil)
                limiter.complete(completion, estimatedTokens: 0, snapshot: nil, nowMs: now)
            }
            // Calls whose slot is now.
            while case .granted(let wait) = limiter.reserve(tokens: 0, nowMs: now, maxWaitMs: 0), wait == 0 {
                requests += 1
                level = min(Double(limitRPM) / 60, level + Double(now - lastRefill) * Double(limitRPM) / 60_000)
                lastRefill = now
                if level >= 1 {
                    level -= 1
                    pending.append((now + latencyMs, true, 0))
                    if now >= endMs / 2 { acceptedLastHalf += 1 }
                } else {
                    limited += 1
                    pending.append((now + 5, false, 0))
                }
            }
            now += 1
        }
        return (requests, limited, acceptedLastHalf)
    }

    @Test("AIMD with no configured limit and no headers converges on the provider's limit", arguments: [600, 3_000])
    func aimdConverges(limitRPM: Int) {
        let seconds = 240
        let run = simulate(limitRPM: limitRPM, seconds: seconds)
        let achievedRPM = Double(run.acceptedLastHalf) / Double(seconds / 2) * 60
        #expect(Double(run.limited) < 0.05 * Double(run.requests), "\(run.limited) 429s of \(run.requests) requests")
        #expect(abs(achievedRPM - Double(limitRPM)) <= 0.15 * Double(limitRPM), "achieved \(achievedRPM) rpm against \(limitRPM)")
    }
}

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    private let configuration = BreakerConfiguration(windowSeconds: 10, minRequests: 4, failureRatio: 0.5, cooldownMs: 1_000, halfOpenProbes: 2)

    @Test("closed until min_requests calls in the window fail at the ratio; 429s and 4xx do not count")
    func opens() {
        var breaker = CircuitBreaker(configuration: configuration)
        for _ in 0..<10 { breaker.record(.neutral, permit: .normal, nowMs: 0) }
        breaker.record(.failure, permit: .normal, nowMs: 0)
        breaker.record(.failure, permit: .normal, nowMs: 0)
        breaker.record(.failure, permit: .normal, nowMs: 0)
        #expect(breaker.state == .closed, "3 calls are fewer than min_requests")
        var fresh = CircuitBreaker(configuration: configuration)
        for result in [CircuitBreaker.Result.success, .success, .success, .failure, .failure] {
            fresh.record(result, permit: .normal, nowMs: 0)
        }
        #expect(fresh.state == .closed, "2 of 5 is under the ratio")
        breaker = fresh
        breaker.record(.failure, permit: .normal, nowMs: 100)
        #expect(breaker.state == .open(untilMs: 1_100))
        #expect(breaker.permit(nowMs: 500) == nil)
        #expect(breaker.reopensAtMs(nowMs: 500) == 1_100)
    }

    @Test("failures older than the window are forgotten")
    func window() {
        var breaker = CircuitBreaker(configuration: configuration)
        for _ in 0..<3 { breaker.record(.failure, permit: .normal, nowMs: 0) }
        breaker.record(.failure, permit: .normal, nowMs: 20_000)
        #expect(breaker.state == .closed)
    }

    @Test("after the cool-down, half-open lets a few probes through: success closes, failure reopens")
    func halfOpen() {
        var breaker = CircuitBreaker(configuration: configuration)
        for _ in 0..<4 { breaker.record(.failure, permit: .normal, nowMs: 0) }
        #expect(breaker.permit(nowMs: 1_000) == .probe)
        #expect(breaker.permit(nowMs: 1_000) == .probe)
        #expect(breaker.permit(nowMs: 1_000) == nil, "only half_open_probes at once")
        breaker.record(.neutral, permit: .probe, nowMs: 1_001)
        #expect(breaker.permit(nowMs: 1_001) == .probe, "a neutral answer gives its probe back")
        breaker.record(.failure, permit: .probe, nowMs: 1_002)
        #expect(breaker.state == .open(untilMs: 2_002))
        breaker.record(.success, permit: .normal, nowMs: 1_003)
        #expect(breaker.state == .open(untilMs: 2_002), "a call from before the opening changes nothing")
        #expect(breaker.permit(nowMs: 2_002) == .probe)
        breaker.record(.success, permit: .probe, nowMs: 2_010)
        #expect(breaker.state == .closed)
        #expect(breaker.permit(nowMs: 2_011) == .normal)
    }
}

@Suite("Deployment limiter")
struct DeploymentLimiterTests {
    @Test("an open breaker says when it reopens; a probe without rate capacity is given back")
    func downAndProbes() {
        let deployment = ProviderDeployment(provider: "p", kind: "openai", baseURL: "http://x", upstreamModel: "m", limits: .init(rpm: 60))
        let limiter = DeploymentLimiter(deployment: deployment, breaker: BreakerConfiguration(windowSeconds: 10, minRequests: 1, failureRatio: 1, cooldownMs: 500, halfOpenProbes: 1))
        guard case .granted(let ticket, 0) = limiter.admit(tokens: 1, nowMs: 0, maxWaitMs: 0) else {
            Issue.record("first call goes at once")
            return
        }
        let failure = JobError(type: "provider_error", code: "http_503", message: "down", providerStatus: 503)
        limiter.complete(ticket, .retriable(failure, retryAfterMs: nil), snapshot: nil, nowMs: 10)
        guard case .down(let until) = limiter.admit(tokens: 1, nowMs: 20, maxWaitMs: 0) else {
            Issue.record("open after a failure")
            return
        }
        #expect(until == 510)
        // At 510 the probe is allowed but the 60 rpm pace has no slot before 1,000: deferred, probe given back.
        guard case .deferred = limiter.admit(tokens: 1, nowMs: 510, maxWaitMs: 0) else {
            Issue.record("no rate capacity yet")
            return
        }
        #expect(limiter.isAvailable(nowMs: 510), "the probe went back")
        let rateLimited = JobError(type: "rate_limited", code: "x", message: "slow down", providerStatus: 429)
        #expect(DeploymentLimiter.classify(.retriable(rateLimited, retryAfterMs: 5)).1 == .neutral)
    }
}
