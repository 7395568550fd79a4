import Foundation
import Testing

@testable import Kafka

@Suite("KafkaTopicReader", .timeLimit(.minutes(1)))
struct KafkaTopicReaderTests {
    /// Reads until caught up; returns the values read.
    static func readAll(_ topics: [String], bootstrap: String) async throws -> [String] {
        var configuration = KafkaTopicReader.Configuration(bootstrapServers: bootstrap, topics: topics)
        configuration.groupID = KafkaTestSupport.uniqueName("reader")
        let reader = try KafkaTopicReader(configuration: configuration, logger: KafkaTestSupport.logger)
        try await reader.start()
        var values: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let message = try reader.poll() {
                values.append(String(decoding: message.value, as: UTF8.self))
            } else if reader.isCaughtUp {
                break
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        await reader.close()
        return values
    }

    @Test("reads every partition from the start, knows when it is done, and commits nothing")
    func readsEverythingTwice() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("reader")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 3)], bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        let sent = (0..<45).map { "v\($0)" }
        try await producer.send(sent.enumerated().map { index, value in
            KafkaProducerMessage(topic: topic, key: Array("k\(index % 5)".utf8), value: Array(value.utf8))
        })

        let first = try await Self.readAll([topic], bootstrap: bootstrap)
        #expect(Set(first) == Set(sent))
        #expect(first.count == sent.count)
        // Nothing was consumed away: a second reader sees the same records.
        #expect(Set(try await Self.readAll([topic], bootstrap: bootstrap)) == Set(sent))
    }

    @Test("an empty topic is caught up at once; a missing topic is an error")
    func emptyAndMissing() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("empty")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 2)], bootstrapServers: bootstrap)
        #expect(try await Self.readAll([topic], bootstrap: bootstrap).isEmpty)

        var configuration = KafkaTopicReader.Configuration(bootstrapServers: bootstrap, topics: [KafkaTestSupport.uniqueName("missing")])
        configuration.timeoutMs = 3_000
        let reader = try KafkaTopicReader(configuration: configuration, logger: KafkaTestSupport.logger)
        await #expect(throws: KafkaError.self) { try await reader.start() }
        await reader.close()
    }
}
