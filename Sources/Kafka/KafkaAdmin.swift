internal import CRdKafka
import Logging

/// Topic administration.
///
/// Each call uses a short-lived librdkafka instance on a dedicated thread: admin calls are rare
/// (start-up, `sluice topics apply`) and waiting for their results blocks.
public enum KafkaAdmin {
    /// Creates the topics that do not exist yet (`TOPIC_ALREADY_EXISTS` is fine); returns the
    /// names it created.
    ///
    /// - Parameters:
    ///   - topics: names, partition counts, replication factors (-1: broker default) and configs.
    ///   - additionalProperties: passed to librdkafka as is.
    ///   - timeoutMs: bounds the request and the broker-side operation.
    ///   - logger: where librdkafka's log lines go (connection failures, for example).
    /// - Throws: `KafkaError` on failure or timeout (an unreachable broker gives `_TIMED_OUT`).
    public static func createTopics(
        _ topics: [KafkaTopicSpecification],
        bootstrapServers: String,
        additionalProperties: [String: String] = [:],
        timeoutMs: Int = 15_000,
        logger: Logger = Logger(label: "sluice.kafka.admin")
    ) async throws -> [String] {
        guard !topics.isEmpty else { return [] }
        var properties = [("bootstrap.servers", bootstrapServers)]
        properties += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let finalProperties = properties
        let result = await DedicatedThread.run(name: "sluice-kafka-admin") {
            Result { () throws(KafkaError) in
                try createTopicsBlocking(topics, properties: finalProperties, timeoutMs: timeoutMs, logger: logger)
            }
        }
        return try result.get()
    }

    // MARK: - Blocking implementation

    private static func createTopicsBlocking(
        _ topics: [KafkaTopicSpecification], properties: [(String, String)], timeoutMs: Int, logger: Logger
    ) throws(KafkaError) -> [String] {
        let callbacks = RDKafkaCallbacks(logger: logger)
        let client = try RDKafkaClient.make(kind: .producer, properties: properties, callbacks: callbacks)
        defer { client.destroy() }
        let rk = client.handle.pointer
        var errstr = [CChar](repeating: 0, count: 512)
        func errorText() -> String {
            String(decoding: errstr.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
        }

        // MARK: Request
        var newTopics: [OpaquePointer?] = []
        defer {
            for topic in newTopics { rd_kafka_NewTopic_destroy(topic) }
        }
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(
                topic.name, Int32(clamping: topic.partitions), Int32(clamping: topic.replicationFactor), &errstr, errstr.count
            ) else {
                throw KafkaError(code: .invalidArgument, message: "topic \(topic.name): \(errorText())", isRetriable: false)
            }
            newTopics.append(newTopic)
            for (name, value) in topic.config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(newTopic, name, value)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(err, context: "topic \(topic.name) config \(name)=\(value)")
                }
            }
        }

        guard let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS) else {
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_AdminOptions_new failed", isRetriable: false)
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        let timeout = Int32(clamping: timeoutMs)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout, &errstr, errstr.count)

        guard let queue = rd_kafka_queue_new(rk) else {
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_queue_new failed", isRetriable: false)
        }
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, queue)
        }

        // MARK: Result
        // The request timeout makes librdkafka answer; the margin only guards against a hang.
        guard let event = rd_kafka_queue_poll(queue, timeout &+ 5_000) else {
            throw KafkaError(code: .timedOut, message: "CreateTopics got no answer within \(timeoutMs + 5_000) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventErr = rd_kafka_event_error(event)
        guard eventErr == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw KafkaError(code: KafkaError.Code(eventErr), message: "CreateTopics failed: \(text)")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(code: .state, message: "CreateTopics returned an unexpected event", isRetriable: false)
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return [] }

        var created: Set<String> = []
        var firstError: KafkaError?
        for index in 0..<count {
            guard let topicResult = results[index] else { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                created.insert(name)
            } else if err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, firstError == nil {
                let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
                firstError = KafkaError(code: KafkaError.Code(err), message: "creating topic \(name) failed: \(text)")
            }
        }
        if let firstError {
            throw firstError
        }
        return topics.map(\.name).filter { created.contains($0) }
    }
}
