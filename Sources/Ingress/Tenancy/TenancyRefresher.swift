import Logging
import ServiceLifecycle
import SluiceCore

/// Re-reads tenants and keys from the ledger every `ingress.tenancy_refresh_ms`, and writes this
/// process's token estimates there, so that every ingress process sees a new or revoked key, a
/// changed limit and the others' token counts within seconds.
///
/// Polling the table (rather than only a `sluice.control` event) also covers an ingress that
/// was down when the change was made, and a change made with `sluice keys` while no broker ran.
struct TenancyRefresher: Service {
    let directory: any TenantDirectory
    let keys: KeyRing
    let policies: TenantPolicies
    let limiter: TenantLimiter
    let intervalMs: Int
    let logger: Logger

    func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            try? await Task.sleep(for: .milliseconds(intervalMs))
            await refresh()
        }
        // What was counted since the last write is not lost at shutdown.
        await limiter.flush(to: directory, logger: logger)
    }

    /// One read of the tables and one write of the token counts; failures are logged and the
    /// last good tables stay in force.
    func refresh() async {
        do {
            let snapshot = try await directory.tenancy()
            keys.update(snapshot.keys)
            policies.update(snapshot.tenants)
        } catch {
            logger.warning("cannot read tenants and keys from the ledger; keeping the last ones", metadata: ["error": "\(error)"])
        }
        await limiter.flush(to: directory, logger: logger)
    }
}

extension Task where Success == Never, Failure == Never {
    /// Cancelled, or the service group is shutting down gracefully.
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}
