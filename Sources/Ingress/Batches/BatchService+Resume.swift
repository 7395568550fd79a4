import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// One ingest's hold on its batch (see ``BatchIngestLeases``), renewed in the background.
final class IngestLease: Sendable {
    enum Lost: Error { case lost }

    let owner: String
    private let lost = Mutex(false)

    init(owner: String) {
        self.owner = owner
    }

    func markLost() { lost.withLock { $0 = true } }

    /// - Throws: ``Lost/lost`` once another process took the batch over.
    func check() throws(Lost) {
        if lost.withLock({ $0 }) { throw .lost }
    }
}

extension BatchService {
    var leaseMs: Int64 { Int64(configuration.ingestLeaseSeconds) * 1_000 }

    /// Lets batches be resumed: a resumed batch's lines are checked as the routes check them.
    func setLineValidator(_ validator: BatchLineValidator) {
        state.withLock { $0.lineValidator = validator }
    }

    /// Takes the batch's lease, runs the ingest while renewing it, and for a resumed batch
    /// first finds which of its jobs are queued already.
    ///
    /// Without a lease store the ingest runs as before (nothing can be resumed then).
    func runLeasedIngest(_ batch: StoredBatch, inputPath: String, validator: BatchLineValidator, resumed: Bool) async {
        guard let leases else {
            await runIngest(batch, inputPath: inputPath, validator: validator)
            return
        }
        let lease = IngestLease(owner: "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUIDv7.generate())")
        do {
            let nowMs = clock.nowMs()
            guard try await leases.claimIngest(batchID: batch.id, owner: lease.owner, nowMs: nowMs, untilMs: nowMs + leaseMs) else {
                // Another process holds it (a batch service that resumed it first): it finishes it.
                logger.info("batch ingest left to the process that holds it", metadata: ["batch_id": "\(batch.id)"])
                return
            }
        } catch {
            // The routes' ingest goes ahead: refusing it for want of a lease would strand the batch.
            logger.warning("batch ingest lease not taken; ingesting anyway", metadata: ["batch_id": "\(batch.id)", "error": "\(error)"])
            await runIngest(batch, inputPath: inputPath, validator: validator)
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.renew(lease, batchID: batch.id, leases: leases) }
            var alreadyQueued: Set<String> = []
            if resumed {
                do {
                    alreadyQueued = try await queuedJobs(of: batch, leases: leases)
                } catch {
                    // Leave the batch for the next round (its lease lapses) rather than queue
                    // jobs that may be queued already.
                    logger.error("batch resume postponed: the job topic could not be read", metadata: ["batch_id": "\(batch.id)", "error": "\(error)"])
                    group.cancelAll()
                    return
                }
            }
            await runIngest(batch, inputPath: inputPath, validator: validator, lease: lease, alreadyQueued: alreadyQueued)
            group.cancelAll()
        }
    }

    /// The batch's recorded jobs that are on its job topic.
    private func queuedJobs(of batch: StoredBatch, leases: any BatchIngestLeases) async throws -> Set<String> {
        guard let finder else { return [] }
        let recorded = try await leases.recordedJobIDs(batchID: batch.id)
        let found = try await finder.queued(among: recorded, topic: enqueuer.topics.jobs(.p2), sinceMs: batch.createdAtMs)
        logger.info(
            "resuming batch ingest",
            metadata: ["batch_id": "\(batch.id)", "recorded_lines": "\(recorded.count)", "already_queued": "\(found.count)"])
        return found
    }

    /// Renews the lease every third of it until cancelled; marks it lost when another process
    /// holds it now.
    private func renew(_ lease: IngestLease, batchID: String, leases: any BatchIngestLeases) async {
        let every = Duration.milliseconds(max(500, leaseMs / 3))
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: every)
            } catch {
                return
            }
            do {
                if try await !leases.renewIngest(batchID: batchID, owner: lease.owner, untilMs: clock.nowMs() + leaseMs) {
                    lease.markLost()
                    return
                }
            } catch {
                // A ledger busy for a moment: the next renewal may get through before the lease lapses.
                logger.warning("batch ingest lease not renewed", metadata: ["batch_id": "\(batchID)", "error": "\(error)"])
            }
        }
    }

    /// Hands every batch whose ingest died (its lease lapsed) to the ingest, at start and then
    /// every half lease, until cancelled.
    func resumeOrphans() async {
        guard let leases, finder != nil else { return }
        while !Task.isCancelled {
            if let validator = state.withLock({ $0.lineValidator }) {
                do {
                    let nowMs = clock.nowMs()
                    let orphans = try await leases.orphanedIngests(nowMs: nowMs, unclaimedBeforeMs: nowMs - leaseMs)
                    for batch in orphans {
                        let taken = state.withLock { state in
                            guard state.ingesting.insert(batch.id).inserted else { return false }
                            if batch.status == .cancelling { state.cancelRequested.insert(batch.id) }
                            return true
                        }
                        guard taken else { continue }
                        logger.notice("batch ingest found unfinished; resuming it", metadata: ["batch_id": "\(batch.id)", "status": "\(batch.status.rawValue)"])
                        submit.yield(.ingest(batch, inputPath: "\(directory)/\(batch.inputFileID)", validator: validator, resumed: true))
                    }
                } catch {
                    logger.warning("unfinished batch ingests not looked up", metadata: ["error": "\(error)"])
                }
            }
            do {
                try await Task.sleep(for: .milliseconds(max(500, leaseMs / 2)))
            } catch {
                return
            }
        }
    }
}
