import Synchronization
import SluiceCore

/// Jobs this process accepted recently, so that a poll right after the 202 answers `queued`
/// instead of 404 while the ledger is still catching up with the audit topic.
///
/// Bounded: the oldest entries go first once `capacity` is reached.
final class RecentJobs: Sendable {
    private struct State {
        var views: [String: JobView] = [:]
        var order: [String] = []
        var head = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    func remember(_ view: JobView) {
        state.withLock { s in
            if s.order.count < capacity {
                s.order.append(view.id)
            } else {
                s.views.removeValue(forKey: s.order[s.head])
                s.order[s.head] = view.id
                s.head = (s.head + 1) % capacity
            }
            s.views[view.id] = view
        }
    }

    func view(id: String, tenant: String) -> JobView? {
        state.withLock { s in s.views[id].flatMap { $0.tenant == tenant ? $0 : nil } }
    }
}
