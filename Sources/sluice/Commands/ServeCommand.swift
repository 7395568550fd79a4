import ArgumentParser
import Kafka
import Ledger
import Logging
import ServiceLifecycle
import SluiceCore

/// Ingress, workers and ledger in one process: the demo and the simplest deployment.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run ingress, workers and ledger in one process.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.serve") { wiring in
            let store = try LedgerStore(path: wiring.configuration.ledger.path)
            let producer = try wiring.producer()
            // Graceful shutdown runs in reverse: ingress stops taking jobs, workers finish theirs,
            // the ledger writes what arrived, and the producer flushes last.
            let batches = wiring.batchService(producer: producer, store: store)
            return [producer] + (try wiring.ledger(store: store, producer: producer))
                + (try wiring.workerServices(producer: producer))
                + [batches, try wiring.ingress(producer: producer, jobs: store, batches: batches)]
        }
    }
}

struct IngressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingress",
        abstract: "Run the HTTP API only (reads job status from the ledger's SQLite file, read-only)."
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.ingress") { wiring in
            let store = try await Self.openLedger(wiring)
            wiring.operations.addLedgerCheck(store, writable: false)
            let producer = try wiring.producer()
            return [producer, try wiring.ingress(producer: producer, jobs: store)]
        }
    }
}

extension IngressCommand {
    /// The ledger file, read-only, once the ledger process has created and migrated it.
    ///
    /// An ingress started beside a ledger that is still starting (a fresh deployment, both
    /// restarted together) waits up to a minute for it instead of failing at once.
    static func openLedger(_ wiring: Wiring) async throws -> LedgerStore {
        let path = wiring.configuration.ledger.path
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                return try LedgerStore(readOnlyPath: path)
            } catch let error as LedgerError where ContinuousClock.now < deadline {
                wiring.logger.notice("waiting for the ledger to create its database", metadata: ["path": "\(path)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run the LLM worker pool only.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.worker") { wiring in
            let producer = try wiring.producer()
            return [producer] + (try wiring.workerServices(producer: producer))
        }
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "Run the ledger writer only.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.ledger") { wiring in
            // The producer publishes the batch finalizer's terminal batch events.
            let producer = try wiring.producer()
            return [producer] + (try wiring.ledger(store: try LedgerStore(path: wiring.configuration.ledger.path), producer: producer))
        }
    }
}
