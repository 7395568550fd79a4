import SluiceCore

/// Whether a deployment is up: closed (calls go), open (none go until the cool-down ends),
/// half-open (a few probes go; the first success closes it, a failure opens it again).
///
/// A value type driven by explicit times, shared behind a lock by ``DeploymentLimiter``.
/// Only the provider's own failures count (5xx, 529, timeouts, refused connections): a 429
/// is the rate limiter's business and a 400 is the job's.
struct CircuitBreaker: Sendable {
    enum State: Equatable, Sendable {
        case closed
        case open(untilMs: Int64)
        case halfOpen(probes: Int)
    }

    /// What a call was let through as.
    enum Permit: Equatable, Sendable {
        case normal
        case probe
    }

    /// How a call ended, for the breaker.
    enum Result: Sendable {
        case success
        case failure
        /// Says nothing about the deployment's health (429, the job's own 4xx, cancelled).
        case neutral
    }

    let configuration: BreakerConfiguration
    private(set) var state = State.closed
    /// Calls and failures per whole second of the window.
    private var buckets: [(second: Int64, calls: Int, failures: Int)] = []

    init(configuration: BreakerConfiguration) {
        self.configuration = configuration
    }

    /// Lets a call through now, or nil while open (or while half-open with every probe out).
    mutating func permit(nowMs: Int64) -> Permit? {
        switch state {
        case .closed:
            return .normal
        case .open(let until):
            guard nowMs >= until else { return nil }
            state = .halfOpen(probes: 1)
            return .probe
        case .halfOpen(let probes):
            guard probes < configuration.halfOpenProbes else { return nil }
            state = .halfOpen(probes: probes + 1)
            return .probe
        }
    }

    /// Whether a call would be let through now (without taking a probe).
    func isAvailable(nowMs: Int64) -> Bool {
        switch state {
        case .closed: true
        case .open(let until): nowMs >= until
        case .halfOpen(let probes): probes < configuration.halfOpenProbes
        }
    }

    /// When it lets calls through again, if it is open now.
    func reopensAtMs(nowMs: Int64) -> Int64? {
        switch state {
        case .closed: nil
        case .open(let until): nowMs >= until ? nil : until
        // Probes are out: their answers decide soon; look again after a short while.
        case .halfOpen: isAvailable(nowMs: nowMs) ? nil : nowMs + 500
        }
    }

    mutating func record(_ result: Result, permit: Permit, nowMs: Int64) {
        switch (state, permit) {
        case (.halfOpen(let probes), .probe):
            switch result {
            case .success:
                state = .closed
                buckets.removeAll()
            case .failure:
                open(nowMs: nowMs)
            case .neutral:
                state = .halfOpen(probes: max(0, probes - 1))
            }
        case (.closed, _):
            guard result != .neutral else { return }
            count(failure: result == .failure, nowMs: nowMs)
            let (calls, failures) = totals(nowMs: nowMs)
            if calls >= configuration.minRequests, Double(failures) >= configuration.failureRatio * Double(calls) {
                open(nowMs: nowMs)
            }
        default:
            // A call let through before the breaker opened: its answer changes nothing now.
            break
        }
    }

    private mutating func open(nowMs: Int64) {
        state = .open(untilMs: nowMs.addingReportingOverflow(Int64(configuration.cooldownMs)).partialValue)
        buckets.removeAll()
    }

    private mutating func count(failure: Bool, nowMs: Int64) {
        let second = nowMs / 1_000
        if let last = buckets.last, last.second == second {
            buckets[buckets.count - 1].calls += 1
            if failure { buckets[buckets.count - 1].failures += 1 }
        } else {
            buckets.append((second, 1, failure ? 1 : 0))
        }
        let window = Int64(configuration.windowSeconds)
        buckets.removeAll { second - $0.second >= window }
    }

    private func totals(nowMs: Int64) -> (calls: Int, failures: Int) {
        let second = nowMs / 1_000
        let window = Int64(configuration.windowSeconds)
        return buckets.filter { second - $0.second < window }.reduce((0, 0)) { ($0.0 + $1.calls, $0.1 + $1.failures) }
    }
}
