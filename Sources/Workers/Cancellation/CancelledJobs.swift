import SluiceCore
import Synchronization

/// The cancelled jobs this worker process knows of, shared by the worker pool, the retry relay
/// and the ``ControlListener`` that fills it from `sluice.control`.
///
/// It is *ready* once the listener has read the control topic up to where it ended when the
/// process started; until then a job could be started although its cancellation is already on
/// Kafka, so the pool and the relay wait for readiness (up to ``CancellationConfiguration/catchUpTimeoutMs``)
/// before they start or re-queue a job.
public final class CancelledJobs: Sendable {
    private struct State {
        var set: CancelledJobSet
        var ready = false
        var gaveUpWaiting = false
    }

    let configuration: CancellationConfiguration
    private let state: Mutex<State>

    public init(configuration: CancellationConfiguration = .init()) {
        self.configuration = configuration
        state = Mutex(State(set: CancelledJobSet(maxJobs: configuration.maxJobs, maxAgeMs: Int64(configuration.maxAgeMs))))
    }

    /// Whether a cancellation of this job is known.
    public func contains(_ jobID: String) -> Bool {
        state.withLock { $0.set.contains(jobID) }
    }

    public var count: Int { state.withLock { $0.set.count } }

    func insert(_ jobID: String, requestedAtMs: Int64, nowMs: Int64) {
        state.withLock { $0.set.insert(jobID, requestedAtMs: requestedAtMs, nowMs: nowMs) }
    }

    func evict(nowMs: Int64) {
        state.withLock { $0.set.evict(nowMs: nowMs) }
    }

    /// The listener has read what the control topic held at start.
    func markReady() {
        state.withLock { $0.ready = true }
    }

    public var isReady: Bool { state.withLock { $0.ready || $0.gaveUpWaiting } }

    /// Whether the listener itself marked it ready (not just a waiter that gave up).
    var isReadyByListener: Bool { state.withLock { $0.ready } }

    /// Suspends until ready, or until ``CancellationConfiguration/catchUpTimeoutMs`` has passed since the
    /// first wait (then every later call returns at once).
    ///
    /// - Returns: false when it stopped waiting without being ready.
    @discardableResult
    func waitUntilReady() async -> Bool {
        if isReady { return state.withLock { $0.ready } }
        let deadline = ContinuousClock.now + .milliseconds(configuration.catchUpTimeoutMs)
        while !isReady {
            if ContinuousClock.now >= deadline {
                state.withLock { $0.gaveUpWaiting = true }
                return false
            }
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return false }
        }
        return state.withLock { $0.ready }
    }
}
