import Testing

@testable import Kafka

@Suite("Kafka values")
struct KafkaValueTests {
    @Test func errorClassification() {
        #expect(KafkaError(code: .messageTimedOut, message: "").isRetriable)
        #expect(KafkaError(code: .queueFull, message: "").isRetriable)
        #expect(KafkaError(code: .allBrokersDown, message: "").isRetriable)
        #expect(KafkaError(code: .transport, message: "").isRetriable)
        #expect(!KafkaError(code: .topicAlreadyExists, message: "").isRetriable)
        #expect(!KafkaError(code: .invalidArgument, message: "").isRetriable)
        #expect(KafkaError(code: .fatal, message: "").isFatal)
        #expect(!KafkaError(code: .fatal, message: "").isRetriable)
        #expect(KafkaError(code: .fatal, message: "", isRetriable: true).isRetriable)
    }

    @Test func codeNamesComeFromLibrdkafka() {
        #expect(KafkaError.Code.messageTimedOut.description == "_MSG_TIMED_OUT")
        #expect(KafkaError.Code.topicAlreadyExists.description == "TOPIC_ALREADY_EXISTS")
        #expect(KafkaError.Code.queueFull.rawValue == -184)
    }

    @Test func headerLookupReturnsFirstUTF8Value() {
        let message = KafkaMessage(
            topic: "t", partition: 0, offset: 0, key: nil, value: [],
            headers: [
                KafkaHeader(key: "a", value: "one"), KafkaHeader(key: "a", value: "two"),
                KafkaHeader(key: "bin", value: [0xFF, 0xFE]),
            ]
        )
        #expect(message.header("a") == "one")
        #expect(message.header("bin") == nil)
        #expect(message.header("missing") == nil)
    }

    @Test func libraryIsSupported() throws {
        #expect(KafkaLibrary.version.hasPrefix("2."))
        try KafkaLibrary.requireSupportedVersion()
    }

    @Test func rejectedPropertyThrowsInvalidArgument() {
        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.additionalProperties = ["no.such.property": "1"]
        #expect {
            _ = try KafkaProducer(configuration: configuration, logger: KafkaTestSupport.logger)
        } throws: { error in
            (error as? KafkaError)?.code == .invalidArgument && "\(error)".contains("no.such.property")
        }
    }
}
