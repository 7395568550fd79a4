import Synchronization

/// One condition a process needs before it should get traffic (`GET /readyz`), such as "the
/// broker answers" or "the ledger file takes a write transaction".
public struct ReadinessCheck: Sendable {
    /// Names the check in the `/readyz` body (`broker`, `ledger`, `workers`).
    public let name: String
    /// Nil when the condition holds; otherwise why not, for the operator.
    let probe: @Sendable () async -> String?

    public init(name: String, probe: @escaping @Sendable () async -> String?) {
        self.name = name
        self.probe = probe
    }
}

/// What one check found.
public struct ReadinessOutcome: Sendable, Equatable {
    public let name: String
    /// Nil when the check passed.
    public let failure: String?

    public var passed: Bool { failure == nil }

    public init(name: String, failure: String?) {
        self.name = name
        self.failure = failure
    }
}

/// The readiness checks of one process, each answered from a short cache.
///
/// Load balancers and Kubernetes probe `/readyz` often, sometimes in storms; each check runs at
/// most once per `cacheTTL`, and callers that arrive while it runs share its answer, so that a
/// burst of probes costs the broker one metadata request and the ledger one write lock.
public final class ReadinessChecks: Sendable {
    private let checks = Mutex<[CachedCheck]>([])
    private let cacheTTL: Duration

    /// - Parameter cacheTTL: how long an answer is reused. Default: 1 s.
    public init(cacheTTL: Duration = .seconds(1)) {
        self.cacheTTL = cacheTTL
    }

    /// Adds a check; checks with the same name are all run (each reported under the name).
    public func add(_ check: ReadinessCheck) {
        let cached = CachedCheck(check, ttl: cacheTTL)
        checks.withLock { $0.append(cached) }
    }

    /// Whether any check was added (a process with none is ready once it runs).
    public var isEmpty: Bool { checks.withLock { $0.isEmpty } }

    /// Runs every check concurrently; outcomes in the order the checks were added.
    public func evaluate() async -> [ReadinessOutcome] {
        let all = checks.withLock { $0 }
        return await withTaskGroup(of: (Int, ReadinessOutcome).self) { group in
            for (index, check) in all.enumerated() {
                group.addTask { (index, ReadinessOutcome(name: check.name, failure: await check.value())) }
            }
            var outcomes: [(Int, ReadinessOutcome)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// A check's last answer, reused for `ttl`; concurrent callers await one run.
private actor CachedCheck {
    nonisolated let name: String
    private let probe: @Sendable () async -> String?
    private let ttl: Duration
    private var last: (at: ContinuousClock.Instant, failure: String?)?
    private var running: Task<String?, Never>?

    init(_ check: ReadinessCheck, ttl: Duration) {
        name = check.name
        probe = check.probe
        self.ttl = ttl
    }

    func value() async -> String? {
        if let last, ContinuousClock.now - last.at < ttl { return last.failure }
        if let running { return await running.value }
        let probe = self.probe
        let task = Task { await probe() }
        running = task
        let failure = await task.value
        last = (ContinuousClock.now, failure)
        running = nil
        return failure
    }
}
