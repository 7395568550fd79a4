import ArgumentParser
import Foundation
import Kafka
import SluiceCore
import Yams

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics", abstract: "Manage Sluice's Kafka topics.", subcommands: [Apply.self]
    )

    /// Creates every topic declared in topics/*.yaml that does not exist yet.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the topics declared in topics/*.yaml (existing ones are kept).")

        @OptionGroup var options: CommonOptions

        @Option(name: .long, help: "Folder of topic definitions.")
        var dir: String = "topics"

        func run() async throws {
            let wiring = try options.wiring("sluice.topics")
            try KafkaLibrary.requireSupportedVersion()
            let definitions = try Self.load(dir: dir).map { definition in
                var d = definition
                d.name = wiring.topics.resolve(definition.name)
                return d
            }
            guard !definitions.isEmpty else { throw ValidationError("no topics found in \(dir)/*.yaml") }
            let created = try await KafkaAdmin.createTopics(
                definitions,
                bootstrapServers: wiring.configuration.kafka.bootstrapServers,
                additionalProperties: wiring.configuration.kafka.properties
            )
            let createdSet = Set(created)
            for d in definitions {
                print("\(createdSet.contains(d.name) ? "created" : "exists ") \(d.name) (partitions: \(d.partitions))")
            }
        }

        private struct File: Decodable {
            var topics: [KafkaTopicSpecification]
        }

        static func load(dir: String) throws -> [KafkaTopicSpecification] {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            } catch {
                throw ValidationError("cannot read topic folder '\(dir)': \(error.localizedDescription)")
            }
            var definitions: [KafkaTopicSpecification] = []
            for name in names {
                let path = dir + "/" + name
                do {
                    let text = try String(contentsOfFile: path, encoding: .utf8)
                    definitions += try YAMLDecoder().decode(File.self, from: text).topics
                } catch {
                    throw ValidationError("\(path): \(error)")
                }
            }
            return definitions
        }
    }
}

/// One topic as declared in topics/*.yaml: `name`, `partitions`, optional `replication_factor`
/// (default -1, the broker's) and `config` (passed to the broker as is).
extension KafkaTopicSpecification: Decodable {
    enum CodingKeys: String, CodingKey {
        case name, partitions, config
        case replicationFactor = "replication_factor"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), partitions: try c.decode(Int.self, forKey: .partitions),
            replicationFactor: try c.decodeIfPresent(Int.self, forKey: .replicationFactor) ?? -1,
            config: try c.decodeIfPresent([String: String].self, forKey: .config) ?? [:])
    }
}
