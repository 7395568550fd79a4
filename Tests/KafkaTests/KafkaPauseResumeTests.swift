import Foundation
@testable import Kafka
import Synchronization
import Testing

/// The consumer pauses its partitions when the app stops taking messages and resumes them when
/// it takes again. Every resume must go on from exactly the message after the last one handed
/// to the consumer: a skipped offset is a job that never runs.
@Suite("KafkaConsumer pause/resume against the dev broker", .serialized)
struct KafkaPauseResumeTests {
    @Test("pausing and resuming while records keep arriving skips no offset", .timeLimit(.minutes(3)))
    func noOffsetSkippedAcrossPauses() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("pause-gap")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 1)], bootstrapServers: bootstrap)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger)
        let total = 6_000

        var configuration = KafkaTestSupport.consumerConfiguration(bootstrap: bootstrap, group: KafkaTestSupport.uniqueName("g"), topics: [topic])
        configuration.maxOutstanding = 16
        configuration.drainTimeoutMs = 1_000
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(consumer)

        // Records arrive in small bursts for the whole test, so fetches are in flight whenever
        // the consumer pauses or resumes.
        let producing = Task {
            var next = 0
            while next < total {
                let burst = min(total - next, Int.random(in: 5...60))
                try await producer.send((next..<next + burst).map { KafkaProducerMessage(topic: topic, key: nil, value: Array("\($0)".utf8)) })
                next += burst
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...15)))
            }
        }

        // The reader takes messages in runs, and every so often holds its 16 unfinished ones
        // for longer than the consumer's full-buffer grace (1 s), which pauses the partition.
        var seen: [Int] = []
        var held: [KafkaMessage] = []
        var pauses = 0
        let deadline = ContinuousClock.now + .seconds(150)
        for await message in consumer.messages {
            seen.append(Int(String(decoding: message.value, as: UTF8.self)) ?? -1)
            held.append(message)
            if held.count == configuration.maxOutstanding {
                if Int.random(in: 0..<40) == 0 {
                    try await Task.sleep(for: .milliseconds(1_300))
                    if consumer.core.snapshot.paused { pauses += 1 }
                }
                for m in held { consumer.markDone(m) }
                held.removeAll()
            }
            if seen.count >= total || ContinuousClock.now > deadline { break }
        }
        for m in held { consumer.markDone(m) }
        try await producing.value
        try await service.stop()

        #expect(pauses > 0, "the test never made the consumer pause")
        let firstGap = zip(seen, seen.dropFirst()).first { $1 != $0 + 1 }
        #expect(firstGap == nil, "after \(firstGap.map { "\($0.0)" } ?? "") came \(firstGap.map { "\($0.1)" } ?? ""); \(pauses) pauses")
        #expect(seen.count == total)
    }
}

@Suite("Dev broker: concurrent producers, tailing consumer", .serialized)
struct ConcurrentProduceTailTests {
    @Test("a consumer tailing a partition that several producers write at once sees every offset", .timeLimit(.minutes(3)))
    func tailSeesEveryOffset() async throws {
        let bootstrap = try KafkaTestSupport.bootstrapServers()
        let topic = KafkaTestSupport.uniqueName("tail")
        _ = try await KafkaAdmin.createTopics([.init(name: topic, partitions: 1)], bootstrapServers: bootstrap)
        let producers = try (0..<4).map { _ in try KafkaProducer(configuration: .init(bootstrapServers: bootstrap), logger: KafkaTestSupport.logger) }
        let perProducer = 3_000

        var configuration = KafkaTestSupport.consumerConfiguration(bootstrap: bootstrap, group: KafkaTestSupport.uniqueName("g"), topics: [topic])
        configuration.maxOutstanding = 256
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let service = RunningService(consumer)
        try await Task.sleep(for: .seconds(8))  // joined and tailing before the writes start

        let writing = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, producer) in producers.enumerated() {
                    group.addTask {
                        // Small batches: the producers still interleave on the partition, without
                        // 12,000 awaited round trips (minutes on a loaded debug build).
                        for start in stride(from: 0, to: perProducer, by: 20) {
                            let batch = (start..<min(start + 20, perProducer)).map { n in
                                KafkaProducerMessage(topic: topic, key: nil, value: Array("\(index)-\(n)".utf8))
                            }
                            try await producer.send(batch)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let reading = Task {
            var offsets: [Int64] = []
            var values = Set<String>()
            for await message in consumer.messages {
                offsets.append(message.offset)
                values.insert(String(decoding: message.value, as: UTF8.self))
                consumer.markDone(message)
                if offsets.count >= 4 * perProducer { break }
            }
            return (offsets, values)
        }
        try await writing.value
        // Every record is stored now; a skipped one would never come.
        let stopReading = Task {
            try await Task.sleep(for: .seconds(20))
            reading.cancel()
        }
        let (offsets, values) = await reading.value
        stopReading.cancel()
        try await service.stop()
        let gaps = zip(offsets, offsets.dropFirst()).filter { $1 != $0 + 1 }
        #expect(gaps.isEmpty, "offset gaps: \(gaps.prefix(10))")
        #expect(values.count == 4 * perProducer)
    }
}
