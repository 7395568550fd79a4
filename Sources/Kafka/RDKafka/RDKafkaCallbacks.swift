internal import CRdKafka
import Logging

/// What one librdkafka instance calls back into: logs, errors, delivery reports, rebalances.
///
/// librdkafka's C callbacks receive this object as the instance opaque. Logs may arrive on
/// librdkafka's internal threads; delivery reports and rebalances arrive on whichever thread
/// polls (a dedicated one in this module).
final class RDKafkaCallbacks: Sendable {
    // MARK: - Types

    /// Called for each delivery report with the message opaque (an id) and the outcome.
    typealias DeliveryHandler = @Sendable (_ messageID: UInt, _ result: Result<KafkaRecordPosition, KafkaError>) -> Void
    /// Called for each rebalance event; must call `rd_kafka_incremental_(un)assign`.
    typealias RebalanceHandler = @Sendable (_ handle: RDKafkaHandle, _ err: rd_kafka_resp_err_t, _ partitions: RDKafkaPartitionListPointer) -> Void

    // MARK: - Properties

    let logger: Logger
    let onDelivery: DeliveryHandler?
    let onRebalance: RebalanceHandler?
    /// Called when librdkafka logs that the broker answered UNKNOWN_PRODUCER_ID (its `UNKPID`
    /// log facility, emitted with `debug=eos`); librdkafka itself raises no error for it.
    let onUnknownProducerID: (@Sendable () -> Void)?

    init(
        logger: Logger, onDelivery: DeliveryHandler? = nil, onRebalance: RebalanceHandler? = nil,
        onUnknownProducerID: (@Sendable () -> Void)? = nil
    ) {
        self.logger = logger
        self.onDelivery = onDelivery
        self.onRebalance = onRebalance
        self.onUnknownProducerID = onUnknownProducerID
    }

    // MARK: - Dispatch from C

    /// Forwards a librdkafka log line (syslog levels) to swift-log.
    func log(level: Int32, facility: String, text: String) {
        if facility == "UNKPID" {
            onUnknownProducerID?()
        }
        let swiftLevel: Logger.Level =
            switch level {
            case ...2: .critical
            case 3: .error
            case 4: .warning
            case 5: .notice
            case 6: .info
            default: .debug
            }
        logger.log(level: swiftLevel, "\(text)", metadata: ["librdkafka.facility": "\(facility)"])
    }

    /// librdkafka's error events repeat what its log lines already said (connection refused,
    /// all brokers down) and are recovered from automatically, so only fatal ones are loud.
    func error(code: KafkaError.Code, reason: String) {
        let level: Logger.Level = code == .fatal ? .error : .debug
        logger.log(level: level, "librdkafka error event: \(reason)", metadata: ["kafka.error": "\(code)"])
    }

    /// Turns a delivery report into a result for the waiting send.
    func delivered(_ message: UnsafePointer<rd_kafka_message_t>) {
        guard let onDelivery else { return }
        let id = UInt(bitPattern: message.pointee._private)
        let err = message.pointee.err
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            onDelivery(id, .success(KafkaRecordPosition(partition: message.pointee.partition, offset: message.pointee.offset)))
        } else {
            let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
            onDelivery(id, .failure(KafkaError(err, context: "delivery to \(topic) failed")))
        }
    }
}
