import Kafka
import Ledger
import SluiceCore

extension Wiring {
    /// The status page's board for a process with an HTTP API (`serve`, `ingress`).
    ///
    /// - Parameters:
    ///   - store: the ledger file, for tenants and failures.
    ///   - producer: the process's running producer, for DLQ replays.
    ///   - role: shown on the page.
    func statusBoard(store: LedgerStore?, producer: KafkaProducer, role: String) -> StatusBoard {
        StatusBoard(
            operations: operations, store: store, deadLetters: deadLetterQueue(), producer: producer, workersGroup: topics.workersGroup,
            role: role, logger: logger)
    }
}
