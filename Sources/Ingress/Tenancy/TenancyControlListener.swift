import Kafka
import Logging
import ServiceLifecycle
import SluiceCore

/// Follows `sluice.control` for key revocations, key expiries and tenant changes, so that this
/// ingress applies them as soon as they are announced rather than at its next re-read of the
/// tenancy tables.
///
/// Every ingress must see every event, so the listener is no member of a consumer group: one
/// group shared by the ingresses would hand each event to one of them only, and a group per
/// process would leave a group and its offsets on the broker for every process that ever ran.
/// A ``KafkaTopicReader`` assigns the topic's partitions itself and starts at their ends: what
/// happened before this process started is in the tables it reads before answering its first
/// request. An event that never arrives (the broker was down when the change was made, the
/// change came from `sluice keys` without a broker) is still applied by the periodic re-read,
/// `ingress.tenancy_refresh_ms`, which stays as the backstop.
struct TenancyControlListener: Service {
    /// Over `topics.control`, starting at its end; the listener starts and closes it.
    let reader: KafkaTopicReader
    let keys: KeyRing
    /// Re-reads the tables at once after an event (nil without a ledger: then only the
    /// announced stop applies, which cannot happen, since config-file keys are never revoked).
    let refresher: TenancyRefresher?
    let logger: Logger

    func run() async throws {
        // Ends with graceful shutdown (a cancellation the wrapper turns into an error).
        try? await cancelWhenGracefulShutdown {
            try await follow()
        }
        await reader.close()
        // A reader that failed leaves revocations to the periodic re-read; the service still
        // waits for shutdown, since a service that returns early stops the whole ingress.
        try? await gracefulShutdown()
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
        logger.info("following the control topic for key revocations and tenant changes")
        while !Task.isCancelled {
            let message: KafkaMessage?
            do {
                message = try reader.poll()
            } catch {
                // Not a reason to stop answering requests: revocations still arrive through the
                // periodic re-read, only later.
                logger.error(
                    "the control topic reader failed; key revocations now reach this ingress only by re-reading the tables",
                    metadata: ["error": "\(error)"])
                return
            }
            if let message {
                await apply(message)
                continue
            }
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
        }
    }

    /// Applies one record; records of other kinds (cancellations, DLQ markers) and records this
    /// version cannot read are skipped.
    private func apply(_ message: KafkaMessage) async {
        guard !message.value.isEmpty else { return }  // a tombstone
        let event: ControlEvent
        do {
            event = try Wire.decode(ControlEvent.self, from: message.value)
        } catch {
            logger.warning(
                "skipping a control record this version cannot read",
                metadata: ["partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)"])
            return
        }
        switch event.kind {
        case .keyRevoked, .keyExpires:
            guard let keyID = event.keyID, let atMs = event.effectiveAtMs else { return }
            keys.announce(keyID: keyID, stopsAtMs: atMs, revoked: event.kind == .keyRevoked)
            logger.info("API key change announced", metadata: ["key_id": "\(keyID)", "kind": "\(event.kind)", "actor": "\(event.actor)"])
            await refresher?.refresh()
        case .tenantChanged:
            logger.info("tenant change announced", metadata: ["tenant": "\(event.tenant)", "actor": "\(event.actor)"])
            await refresher?.refresh()
        default:
            return
        }
    }
}
