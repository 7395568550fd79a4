import DequeModule
import Synchronization
import SluiceCore

/// Jobs this process accepted recently, so that a poll right after the 202 answers `queued`
/// instead of 404 while the ledger is still catching up with the audit topic.
///
/// Bounded: the oldest entries go first once `capacity` is reached.
final class RecentJobs: Sendable {
    private struct State {
        var views: [String: JobView] = [:]
        /// Ids, oldest first.
        var order: Deque<String> = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    func remember(_ view: JobView) {
        state.withLock { s in
            if s.views.updateValue(view, forKey: view.id) == nil {
                s.order.append(view.id)
            }
            if s.order.count > capacity, let oldest = s.order.popFirst() {
                s.views.removeValue(forKey: oldest)
            }
        }
    }

    func view(id: String, tenant: String) -> JobView? {
        state.withLock { s in s.views[id].flatMap { $0.tenant == tenant ? $0 : nil } }
    }
}
