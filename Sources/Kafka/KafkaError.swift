internal import CRdKafka

/// An error from the Kafka module: the librdkafka code kept as is, a readable message, and the two
/// questions callers actually ask — may I try again, and is this client instance broken.
///
/// The ingress turns `isRetriable` into "503, try again" and everything else into a failure, so
/// the classification lives here, next to the codes, not in every caller.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    // MARK: - Code

    /// A librdkafka error code (`rd_kafka_resp_err_t`): negative values are client-local
    /// (`_MSG_TIMED_OUT`, `_QUEUE_FULL`, …), positive ones come from the broker protocol.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The `rd_kafka_resp_err_t` value.
        public let rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        init(_ err: rd_kafka_resp_err_t) {
            self.rawValue = err.rawValue
        }

        /// librdkafka's symbolic name, such as `_MSG_TIMED_OUT` or `TOPIC_ALREADY_EXISTS`.
        public var description: String {
            String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue)))
        }

        /// The local producer queue (`queue.buffering.max.messages`) is full: back-pressure.
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        /// No broker acknowledged the message within `message.timeout.ms`.
        public static let messageTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        /// A broker connection failed.
        public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
        /// No broker can be reached at all.
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        /// The broker does not know the topic or partition (for example after the in-memory dev broker restarted).
        public static let unknownTopicOrPartition = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        /// The client's metadata says the topic does not exist.
        public static let unknownTopic = Code(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        /// The client's metadata says the partition does not exist.
        public static let unknownPartition = Code(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
        /// CreateTopics found the topic already there.
        public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        /// The librdkafka instance raised a fatal error and cannot be used any more.
        public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
        /// A local operation timed out.
        public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
        /// A queued operation timed out.
        public static let timedOutQueue = Code(RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE)
        /// The client was shut down (or is being shut down).
        public static let destroyed = Code(RD_KAFKA_RESP_ERR__DESTROY)
        /// A message was purged from the local queue before it was sent (shutdown).
        public static let purgedQueue = Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
        /// A message was purged while its request was in flight (shutdown).
        public static let purgedInFlight = Code(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        /// An argument or a configuration value was rejected.
        public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        /// The operation is not allowed in the client's current state.
        public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
        /// There was no offset to commit.
        public static let noOffset = Code(RD_KAFKA_RESP_ERR__NO_OFFSET)
        /// The loaded librdkafka or the broker lacks a needed feature.
        public static let unsupportedFeature = Code(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
        /// The message is larger than the broker (or `message.max.bytes`) accepts.
        public static let messageSizeTooLarge = Code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        /// The broker did not answer a request in time.
        public static let requestTimedOut = Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
        /// Too few in-sync replicas for `acks=all`.
        public static let notEnoughReplicas = Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS)
        /// Too few in-sync replicas after the append.
        public static let notEnoughReplicasAfterAppend = Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND)
        /// The partition has no leader right now.
        public static let leaderNotAvailable = Code(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
        /// The broker is no longer the partition leader.
        public static let notLeaderForPartition = Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
        /// The broker lost a connection while handling the request.
        public static let networkException = Code(RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION)
        /// The group coordinator is loading.
        public static let coordinatorLoadInProgress = Code(RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS)
        /// The group coordinator is not available.
        public static let coordinatorNotAvailable = Code(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE)
        /// The broker is not the group coordinator.
        public static let notCoordinator = Code(RD_KAFKA_RESP_ERR_NOT_COORDINATOR)
        /// The group is rebalancing.
        public static let rebalanceInProgress = Code(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)

        /// Codes where the same request may succeed later: timeouts, lost connections,
        /// back-pressure and leadership changes.
        static let retriableCodes: Set<Code> = [
            .queueFull, .messageTimedOut, .transport, .allBrokersDown, .timedOut, .timedOutQueue,
            .purgedQueue, .purgedInFlight, .unknownTopicOrPartition, .requestTimedOut,
            .notEnoughReplicas, .notEnoughReplicasAfterAppend, .leaderNotAvailable,
            .notLeaderForPartition, .networkException, .coordinatorLoadInProgress,
            .coordinatorNotAvailable, .notCoordinator, .rebalanceInProgress,
            Code(RD_KAFKA_RESP_ERR__RESOLVE), Code(RD_KAFKA_RESP_ERR__WAIT_COORD),
            Code(RD_KAFKA_RESP_ERR__NODE_UPDATE),
        ]
    }

    // MARK: - Properties

    /// The librdkafka code.
    public var code: Code
    /// What went wrong, in librdkafka's words plus what this module was doing.
    public var message: String
    /// Trying the same thing again later may succeed (librdkafka says so, or the code is a
    /// timeout, transport, queue-full or all-brokers-down kind of failure).
    public var isRetriable: Bool
    /// The librdkafka instance hit a fatal error. `KafkaProducer` rebuilds its instance after
    /// one, so its errors with `isFatal` are also `isRetriable`.
    public var isFatal: Bool

    // MARK: - Initialisers

    /// Classifies by code; pass `isRetriable`/`isFatal` to override what the code implies.
    public init(code: Code, message: String, isRetriable: Bool? = nil, isFatal: Bool? = nil) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable ?? Code.retriableCodes.contains(code)
        self.isFatal = isFatal ?? (code == .fatal)
    }

    /// An error from a response code, with librdkafka's text for it.
    init(_ err: rd_kafka_resp_err_t, context: String) {
        let code = Code(err)
        let text = String(cString: rd_kafka_err2str(err))
        self.init(code: code, message: context.isEmpty ? text : "\(context): \(text)")
    }

    /// Takes over an `rd_kafka_error_t *` (and destroys it), keeping librdkafka's own
    /// retriable and fatal flags.
    init(consuming error: OpaquePointer, context: String) {
        let code = Code(rd_kafka_error_code(error))
        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? code.description
        let retriable = rd_kafka_error_is_retriable(error) != 0 || Code.retriableCodes.contains(code)
        let fatal = rd_kafka_error_is_fatal(error) != 0 || code == .fatal
        rd_kafka_error_destroy(error)
        self.init(code: code, message: context.isEmpty ? text : "\(context): \(text)", isRetriable: retriable, isFatal: fatal)
    }

    /// A configured librdkafka property that Sluice fixes itself.
    static func reservedProperty(_ key: String) -> KafkaError {
        KafkaError(
            code: .invalidArgument,
            message: "kafka.properties: '\(key)' is fixed by Sluice (its delivery guarantees depend on it); remove it from the configuration",
            isRetriable: false)
    }

    // MARK: - CustomStringConvertible

    public var description: String {
        "KafkaError(\(code), \(message)\(isRetriable ? ", retriable" : "")\(isFatal ? ", fatal" : ""))"
    }
}
