internal import CRdKafka
import Logging
import Synchronization

/// One librdkafka instance (`rd_kafka_t *`) with the Swift callbacks it calls into.
///
/// Owners (`ProducerCore`, `ConsumerCore`, `KafkaAdmin`) decide when it is destroyed, always on a
/// dedicated thread, because `rd_kafka_destroy` blocks until librdkafka's own threads end.
final class RDKafkaClient: Sendable {
    // MARK: - Kind

    /// Which librdkafka client type to create.
    enum Kind {
        case producer
        case consumer

        var rdType: rd_kafka_type_t {
            switch self {
            case .producer: RD_KAFKA_PRODUCER
            case .consumer: RD_KAFKA_CONSUMER
            }
        }
    }

    // MARK: - Properties

    /// The instance. Valid until `destroy()`.
    let handle: RDKafkaHandle
    /// Counts rebuilds of the producer instance, so delivery bookkeeping can tell an old
    /// instance's messages from the current one's.
    let generation: UInt64
    /// Threads that are using `handle` outside the owner's lock right now (the producer's
    /// `produceva` calls); the owner waits for zero before destroying the instance.
    let users = Atomic<Int>(0)
    /// The retained callbacks object passed to librdkafka as the instance opaque; released only
    /// after `rd_kafka_destroy` returned, since librdkafka may log until the very end.
    private let callbacks: UnmanagedCallbacks

    // MARK: - Creation

    private init(handle: RDKafkaHandle, generation: UInt64, callbacks: UnmanagedCallbacks) {
        self.handle = handle
        self.generation = generation
        self.callbacks = callbacks
    }

    /// Builds a configuration from `properties` (applied in order, so later ones win) and
    /// creates the instance.
    ///
    /// - Throws: `KafkaError` (`invalidArgument`) naming the property librdkafka rejected.
    static func make(
        kind: Kind, properties: [(String, String)], callbacks: RDKafkaCallbacks, generation: UInt64 = 1
    ) throws(KafkaError) -> RDKafkaClient {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .invalidArgument, message: "rd_kafka_conf_new failed")
        }
        var errstr = [CChar](repeating: 0, count: 512)
        // The broker closes idle connections; librdkafka would log each close as an error.
        let defaults = [("log.connection.close", "false")]
        for (name, value) in defaults + properties {
            let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                // Only the name: the value may be a credential (sasl.password, ssl.key.password,
                // sasl.oauthbearer.client.secret), and this message reaches logs.
                // librdkafka's own reason may quote the value too: left out for secret-looking names.
                let secret = ["password", "secret", "key", "token", "jaas"].contains { name.lowercased().contains($0) }
                let reason = secret ? "invalid value" : String(decoding: errstr.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
                throw KafkaError(
                    code: .invalidArgument,
                    message: "librdkafka rejected \(name): \(reason)",
                    isRetriable: false
                )
            }
        }

        let unmanaged = Unmanaged.passRetained(callbacks)
        rd_kafka_conf_set_opaque(conf, unmanaged.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, text in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            callbacks.log(
                level: level,
                facility: facility.map { String(cString: $0) } ?? "",
                text: text.map { String(cString: $0) } ?? ""
            )
        }
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            guard let opaque else { return }
            let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            callbacks.error(code: KafkaError.Code(rawValue: err), reason: reason.map { String(cString: $0) } ?? "")
        }
        if callbacks.onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let message, let opaque else { return }
                let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                callbacks.delivered(message)
            }
        }
        if callbacks.onRebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let partitions, let opaque else { return }
                let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                callbacks.onRebalance?(RDKafkaHandle(pointer: rk), err, RDKafkaPartitionListPointer(pointer: partitions))
            }
        }

        guard let rk = rd_kafka_new(kind.rdType, conf, &errstr, errstr.count) else {
            // On failure the configuration is still ours.
            rd_kafka_conf_destroy(conf)
            unmanaged.release()
            throw KafkaError(
                code: .invalidArgument,
                message: "rd_kafka_new failed: \(String(decoding: errstr.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self))",
                isRetriable: false
            )
        }
        return RDKafkaClient(
            handle: RDKafkaHandle(pointer: rk), generation: generation, callbacks: UnmanagedCallbacks(value: unmanaged)
        )
    }

    // MARK: - Destruction

    /// Destroys the instance (blocking: call on a dedicated thread) and then releases the callbacks.
    ///
    /// - Parameter skipConsumerClose: for a consumer that never ran, skip the implicit
    ///   `rd_kafka_consumer_close` (there is nothing to commit or leave).
    func destroy(skipConsumerClose: Bool = false) {
        if skipConsumerClose {
            rd_kafka_destroy_flags(handle.pointer, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
        } else {
            rd_kafka_destroy(handle.pointer)
        }
        callbacks.value.release()
    }
}

// MARK: - Sendable wrappers

/// An `rd_kafka_t *`.
///
/// `@unchecked Sendable` is safe: librdkafka instances are thread-safe for every call this
/// module makes from several threads (produce, poll, pause), and the owners keep the pointer
/// alive (see `RDKafkaClient.users`) until no thread uses it.
struct RDKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// An `rd_kafka_topic_partition_list_t *` handed to the rebalance callback.
///
/// `@unchecked Sendable` is safe: it is only used synchronously inside the callback, on the
/// thread librdkafka called it on.
struct RDKafkaPartitionListPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
}

/// The retained callbacks reference.
///
/// `@unchecked Sendable` is safe: it is written once at creation and released once in
/// `destroy()`; `RDKafkaCallbacks` itself is `Sendable`.
private struct UnmanagedCallbacks: @unchecked Sendable {
    let value: Unmanaged<RDKafkaCallbacks>
}
