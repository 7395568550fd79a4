import SluiceCore
import Synchronization

/// What a worker pool is doing at one moment, for `/metrics` and the status page.
public struct WorkerPoolStatus: Sendable {
    /// One deployment's health in this process.
    public struct Deployment: Sendable {
        public var label: String
        public var provider: String
        public var model: String
        /// `closed`, `half_open` or `open`.
        public var breaker: String
        /// Provider calls running on it now.
        public var inFlight: Int
    }

    /// Jobs read and waiting for a caller (not parked ones).
    public var queued: Int
    /// Provider calls running now.
    public var calling: Int
    public var deployments: [Deployment]
}

/// The pool's live figures, shared by its copies (the pool is a struct; its run and the
/// metrics sampler see the same instance).
final class WorkerPoolGauges: Sendable {
    let queue = Mutex<WeightedJobQueue<LLMWorkerPool.WorkItem>?>(nil)
    let calling = Atomic<Int>(0)
}

extension LLMWorkerPool {
    /// The pool now: queue depth, calls running, and every deployment's breaker.
    public var status: WorkerPoolStatus {
        let nowMs = WallClock.system.nowMs()
        let deployments = limiters.values.sorted { $0.deployment.label < $1.deployment.label }.map { limiter in
            let (rate, breaker) = limiter.snapshot
            let state: String
            switch breaker {
            case .closed: state = "closed"
            case .halfOpen: state = "half_open"
            case .open(let until): state = nowMs >= until ? "half_open" : "open"
            }
            return WorkerPoolStatus.Deployment(
                label: limiter.deployment.label, provider: limiter.deployment.provider, model: limiter.deployment.upstreamModel,
                breaker: state, inFlight: rate.inFlight)
        }
        return WorkerPoolStatus(
            queued: gauges.queue.withLock { $0?.count ?? 0 }, calling: gauges.calling.load(ordering: .relaxed), deployments: deployments)
    }
}
