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
            let store = try wiring.ledgerStore()
            let producer = try wiring.producer()
            // Graceful shutdown runs in reverse: ingress stops taking jobs, workers finish theirs,
            // the ledger writes what arrived, and the producer flushes last.
            let board = wiring.statusBoard(store: store, producer: producer, role: "serve")
            let batches = try wiring.batchService(producer: producer, store: store)
            let sync = wiring.syncResults()
            return [producer] + (try wiring.ledger(store: store, producer: producer))
                + (try wiring.workerServices(producer: producer))
                + [try wiring.webhookDispatcher(producer: producer, registered: store)]
                + [board, batches, sync.listener]
                + [try wiring.ingress(producer: producer, jobs: store, tenancy: store, board: board, batches: batches, syncWaiters: sync.waiters)]
        }
    }
}

struct IngressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingress",
        abstract: "Run the HTTP API only (reads job status from the ledger's SQLite file; writes only keys, tenants, files and batches)."
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.ingress") { wiring in
            let store = try await Self.openLedger(wiring)
            wiring.operations.addLedgerCheck(store, writable: false)
            let producer = try wiring.producer()
            let board = wiring.statusBoard(store: store, producer: producer, role: "ingress")
            // Tenants and keys are written by admins through this process too, and files and
            // batches by their routes: a writable connection to the same file (the ledger
            // process owns its schema). Uploads go to `batches.files_directory` beside it, where
            // the ledger process's batch finalizer reads them and writes the output files, as
            // in `serve`.
            let writable = try LedgerStore(existingPath: wiring.configuration.ledger.path)
            let batches = try wiring.batchService(producer: producer, store: writable)
            let sync = wiring.syncResults()
            return [
                producer, board, batches, sync.listener,
                try wiring.ingress(
                    producer: producer, jobs: store, tenancy: writable, board: board, batches: batches, syncWaiters: sync.waiters),
            ]
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
                return try wiring.ledgerStore(readOnly: true)
            } catch where ContinuousClock.now < deadline && (error is LedgerError || error is KeyFiles.Failure) {
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
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Run the ledger writer only (the default), or rebuild a ledger from the topics.",
        subcommands: [Run.self, LedgerRebuildCommand.self], defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the ledger writer only.")

        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await options.runServices("sluice.ledger") { wiring in
                // The producer publishes the batch finalizer's terminal batch events.
                let producer = try wiring.producer()
                return [producer] + (try wiring.ledger(store: try wiring.ledgerStore(), producer: producer))
            }
        }
    }
}

/// The webhook worker pool only (group `sluice-webhooks`); reads registered endpoints from the
/// ledger's file, read-only.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "webhooks", abstract: "Run the webhook worker pool only.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.runServices("sluice.webhooks") { wiring in
            let store = try await IngressCommand.openLedger(wiring)
            let producer = try wiring.producer()
            return [producer, try wiring.webhookDispatcher(producer: producer, registered: store)]
        }
    }
}
