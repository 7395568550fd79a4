internal import CRdKafka

/// Conversions between Swift records and librdkafka's messages and header lists.
enum RDKafkaRecords {
    /// Copies a consumed `rd_kafka_message_t` (without error) into a `KafkaMessage`.
    static func message(from pointer: UnsafePointer<rd_kafka_message_t>, generation: UInt64) -> KafkaMessage {
        let raw = pointer.pointee
        let topic = raw.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let key: [UInt8]? = raw.key.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.key_len)) }
        let value: [UInt8] = raw.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.len)) } ?? []

        var headers: [KafkaHeader] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(pointer, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var headerValue: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &headerValue, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = headerValue.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
                index += 1
            }
        }

        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)

        return KafkaMessage(
            topic: topic,
            partition: raw.partition,
            offset: raw.offset,
            key: key,
            value: value,
            headers: headers,
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || timestamp < 0 ? nil : timestamp,
            assignmentGeneration: generation
        )
    }

    /// Creates an `rd_kafka_headers_t` (nil for none). The caller owns it until produce succeeds.
    static func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty, let list = rd_kafka_headers_new(headers.count) else { return nil }
        for header in headers {
            if header.value.isEmpty {
                // A real pointer with size 0, so the value is "empty", not Kafka's "null".
                var zero: UInt8 = 0
                _ = withUnsafePointer(to: &zero) { rd_kafka_header_add(list, header.key, -1, $0, 0) }
            } else {
                _ = header.value.withUnsafeBytes { rd_kafka_header_add(list, header.key, -1, $0.baseAddress, $0.count) }
            }
        }
        return list
    }
}
