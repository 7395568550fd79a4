import ArgumentParser
import Foundation
import Kafka
import Ledger
import SluiceCore

/// `sluice ledger rebuild`: a new ledger file from the topics, and its chain heads compared
/// with the live ledger's.
struct LedgerRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Build a new ledger file from the audit and results topics and compare its chain heads with the configured ledger's.")

    @OptionGroup var options: CommonOptions
    @Option(help: "The new ledger file; must not exist yet.") var into: String

    func run() async throws {
        let wiring = try options.wiring("sluice.ledger")
        try KafkaLibrary.requireSupportedVersion()
        guard !FileManager.default.fileExists(atPath: into) else {
            throw ValidationError("--into \(into) exists; rebuild writes a new file (move or remove the old one first)")
        }
        let configuration = wiring.configuration
        let topics = configuration.kafka.topics
        var rebuilt = configuration
        rebuilt.ledger.path = into
        // The same master key: the rebuilt file is a drop-in replacement for the live one.
        rebuilt.ledger.masterKeyFile = configuration.ledger.resolvedMasterKeyFile
        let store = try Wiring(configuration: rebuilt, logger: wiring.logger).ledgerStore()

        var c = KafkaTopicReader.Configuration(bootstrapServers: configuration.kafka.bootstrapServers, topics: [topics.audit, topics.results])
        c.clientID = "sluice-\(Wiring.instance)"
        c.groupID = "\(topics.prefix)-ledger-rebuild"
        c.additionalProperties = configuration.kafka.properties
        let reader = try KafkaTopicReader(configuration: c, logger: wiring.logger)
        let started = ContinuousClock.now
        var reported = 0
        let summary = try await LedgerRebuild.run(
            reader: reader, into: store, topics: topics, batchSize: configuration.ledger.batchSize, logger: wiring.logger
        ) { written in
            if written - reported >= 100_000 {
                reported = written
                print("  \(written) records")
            }
        }
        print("rebuilt \(into) from \(topics.audit) and \(topics.results): \(summary.records) records (\(summary.setAside) set aside) in \(ContinuousClock.now - started)")

        let heads = try store.auditHeads()
        for (tenant, head) in heads.sorted(by: { $0.key < $1.key }) {
            print("  \(tenant): \(head.length) events, head \(Hex.encode(head.hash))")
        }
        // The live ledger, when there is one here: the same topics must give the same heads.
        guard FileManager.default.fileExists(atPath: configuration.ledger.path) else { return }
        let live = try wiring.ledgerStore(readOnly: true).auditHeads()
        let differing = Set(heads.keys).union(live.keys).filter { heads[$0] != live[$0] }.sorted()
        if differing.isEmpty {
            print("chain heads match \(configuration.ledger.path) for all \(heads.count) tenants")
        } else {
            print("chain heads differ from \(configuration.ledger.path) for: \(differing.joined(separator: ", ")) (events past the topics' retention, or written since the rebuild started)")
            throw ExitCode(3)
        }
    }
}
