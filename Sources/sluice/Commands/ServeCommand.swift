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
        let wiring = try options.wiring("sluice.serve")
        try KafkaLibrary.requireSupportedVersion()
        let store = try LedgerStore(path: wiring.configuration.ledger.path)
        let producer = try wiring.producer()
        // Graceful shutdown runs in reverse: ingress stops taking jobs, workers finish theirs,
        // the ledger writes what arrived, and the producer flushes last.
        let services: [any Service] =
            [producer]
            + (try wiring.ledger(store: store))
            + [try wiring.workerPool(producer: producer), try wiring.ingress(producer: producer, jobs: store)]
        try await runServices(services, logger: wiring.logger)
    }
}

struct IngressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingress",
        abstract: "Run the HTTP API only (reads job status from the ledger's SQLite file, read-only)."
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let wiring = try options.wiring("sluice.ingress")
        try KafkaLibrary.requireSupportedVersion()
        let store = try LedgerStore(readOnlyPath: wiring.configuration.ledger.path)
        let producer = try wiring.producer()
        try await runServices([producer, try wiring.ingress(producer: producer, jobs: store)], logger: wiring.logger)
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run the LLM worker pool only.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let wiring = try options.wiring("sluice.worker")
        try KafkaLibrary.requireSupportedVersion()
        let producer = try wiring.producer()
        try await runServices([producer, try wiring.workerPool(producer: producer)], logger: wiring.logger)
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "Run the ledger writer only.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let wiring = try options.wiring("sluice.ledger")
        try KafkaLibrary.requireSupportedVersion()
        let store = try LedgerStore(path: wiring.configuration.ledger.path)
        try await runServices(try wiring.ledger(store: store), logger: wiring.logger)
    }
}
