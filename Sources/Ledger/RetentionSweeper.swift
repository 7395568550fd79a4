import Logging
import ServiceLifecycle

/// Applies the payload retention policy at start and then every `interval`, in the ledger
/// process (the one that writes the file).
///
/// A failed sweep is logged and tried again at the next interval: retention is late then,
/// never wrong, and it must not stop the ledger from recording.
public struct RetentionSweeper: Service {
    private let store: LedgerStore
    private let policy: RetentionPolicy
    private let interval: Duration
    private let logger: Logger

    public init(store: LedgerStore, policy: RetentionPolicy, interval: Duration, logger: Logger) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.logger = logger
    }

    /// Sweeps until graceful shutdown or cancellation, then returns.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.sweep()
                do {
                    try await Task.sleep(for: self.interval)
                } catch {
                    return
                }
            }
        }
    }

    func sweep() async {
        do {
            for (tenant, purged) in try await store.applyRetention(policy) {
                logger.notice(
                    "retention purged payloads",
                    metadata: ["tenant": "\(tenant)", "events": "\(purged.events)", "results": "\(purged.results)"])
            }
        } catch {
            logger.warning("retention sweep failed; trying again at the next interval", metadata: ["error": "\(error)"])
        }
    }
}
