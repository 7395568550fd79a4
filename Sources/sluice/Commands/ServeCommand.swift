import ArgumentParser
import Kafka
import Ledger
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
            return [producer] + (try wiring.ledger(store: store))
                + [try wiring.retryRelay(producer: producer), try wiring.workerPool(producer: producer)]
                + [try wiring.ingress(producer: producer, jobs: store)]
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
            let store = try LedgerStore(readOnlyPath: wiring.configuration.ledger.path)
            let producer = try wiring.producer()
            return [producer, try wiring.ingress(producer: producer, jobs: store)]
        }
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run the LLM worker pool only.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.worker") { wiring in
            let producer = try wiring.producer()
            return [producer, try wiring.retryRelay(producer: producer), try wiring.workerPool(producer: producer)]
        }
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "Run the ledger writer only.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.ledger") { wiring in
            try wiring.ledger(store: try LedgerStore(path: wiring.configuration.ledger.path))
        }
    }
}
