import Kafka
import Logging
import ServiceLifecycle
import SluiceCore

/// Reads the compacted `sluice.control` topic, all of it, into ``CancelledJobs``.
///
/// Every worker process must see every cancellation, whichever jobs partitions it owns, so the
/// listener is no member of a consumer group: a ``KafkaTopicReader`` assigns every partition
/// from the beginning. That leaves nothing behind on the broker (no per-process groups or
/// offsets to expire), needs no group join (slow on the dev broker), and makes a restarted
/// worker rebuild its set from the topic, which compaction keeps at one record per job.
public struct ControlListener: Service {
    private let reader: KafkaTopicReader
    private let cancelled: CancelledJobs
    private let clock: WallClock
    private let logger: Logger

    /// - Parameter reader: over `topics.control`; the listener starts and closes it.
    public init(reader: KafkaTopicReader, cancelled: CancelledJobs, clock: WallClock = .system, logger: Logger) {
        self.reader = reader
        self.cancelled = cancelled
        self.clock = clock
        self.logger = logger
    }

    /// Follows the topic until graceful shutdown. A topic that cannot be read yet (not
    /// created, broker down) is retried; the worker pool meanwhile waits up to
    /// `cancellation.catch_up_timeout_ms` and then runs jobs without it.
    ///
    /// - Throws: `KafkaError` when the reader hit a fatal error: a worker that no longer sees
    ///   cancellations must stop (and be restarted) rather than run cancelled jobs.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await follow()
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        logger.info("control listener stopped")
    }

    private func follow() async throws {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await reader.start()
                break
            } catch {
                failures += 1
                let delayMs = Backoff(baseMs: 500, capMs: 10_000).delayMs(retry: failures)
                logger.warning("cannot read the control topic yet; will retry", metadata: ["error": "\(error)", "delay_ms": "\(delayMs)"])
                do { try await Task.sleep(for: .milliseconds(delayMs)) } catch { return }
            }
        }
        var lastEviction = ContinuousClock.now
        while !Task.isCancelled {
            let message: KafkaMessage?
            do {
                message = try reader.poll()
            } catch {
                logger.critical("the control topic reader failed; stopping so that the process can be restarted", metadata: ["error": "\(error)"])
                throw error
            }
            if let message {
                apply(message)
                continue
            }
            if !cancelled.isReadyByListener, reader.isCaughtUp {
                cancelled.markReady()
                logger.info("control topic read", metadata: ["cancelled_jobs": "\(cancelled.count)"])
            }
            if ContinuousClock.now - lastEviction > .seconds(60) {
                cancelled.evict(nowMs: clock.nowMs())
                lastEviction = .now
            }
            do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
        }
    }

    /// Applies one record; a record that is not a control event this version knows is logged
    /// and skipped (the topic is shared with newer writers and other kinds).
    private func apply(_ message: KafkaMessage) {
        guard !message.value.isEmpty else { return }  // a tombstone: nothing to know
        let event: ControlEvent
        do {
            event = try Wire.decode(ControlEvent.self, from: message.value)
        } catch {
            logger.warning(
                "skipping a control record this version cannot read",
                metadata: ["partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)"])
            return
        }
        guard event.kind == .jobCancel else { return }
        cancelled.insert(event.jobID, requestedAtMs: event.requestedAtMs, nowMs: clock.nowMs())
        logger.debug("job cancellation seen", metadata: ["job_id": "\(event.jobID)", "actor": "\(event.actor)"])
    }
}
