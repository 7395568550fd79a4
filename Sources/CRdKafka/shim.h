#ifndef SLUICE_CRDKAFKA_SHIM_H
#define SLUICE_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>

/*
 * Helpers for the parts of librdkafka that Swift cannot call directly:
 * `rd_kafka_vu_t` holds an anonymous union (awkward from Swift), and several
 * constants are casting macros that the importer skips.
 */

/** RD_KAFKA_PARTITION_UA: let the configured partitioner choose. */
static inline int32_t sluice_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }

/** RD_KAFKA_OFFSET_BEGINNING. */
static inline int64_t sluice_offset_beginning(void) { return RD_KAFKA_OFFSET_BEGINNING; }

/** RD_KAFKA_OFFSET_INVALID. */
static inline int64_t sluice_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }

/**
 * Enqueues one message with rd_kafka_produceva. Key and value are copied
 * (RD_KAFKA_MSG_F_COPY), so the caller's buffers may go away on return.
 * `headers` may be NULL; on success librdkafka owns it, on failure the caller
 * still does (librdkafka's documented producev/produceva contract).
 * `opaque` comes back as rd_kafka_message_t._private in the delivery report.
 * Returns NULL on success, or an error the caller must destroy.
 */
static inline rd_kafka_error_t *sluice_produce(rd_kafka_t *rk,
                                               const char *topic,
                                               const void *key,
                                               size_t key_len,
                                               int has_key,
                                               const void *value,
                                               size_t value_len,
                                               rd_kafka_headers_t *headers,
                                               void *opaque) {
        rd_kafka_vu_t vus[7];
        size_t n = 0;

        vus[n].vtype  = RD_KAFKA_VTYPE_TOPIC;
        vus[n].u.cstr = topic;
        n++;
        vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        vus[n].u.i   = RD_KAFKA_MSG_F_COPY;
        n++;
        vus[n].vtype      = RD_KAFKA_VTYPE_VALUE;
        vus[n].u.mem.ptr  = (void *)value;
        vus[n].u.mem.size = value_len;
        n++;
        if (has_key) {
                vus[n].vtype      = RD_KAFKA_VTYPE_KEY;
                vus[n].u.mem.ptr  = (void *)key;
                vus[n].u.mem.size = key_len;
                n++;
        }
        if (headers) {
                vus[n].vtype     = RD_KAFKA_VTYPE_HEADERS;
                vus[n].u.headers = headers;
                n++;
        }
        vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
        vus[n].u.ptr = opaque;
        n++;
        return rd_kafka_produceva(rk, vus, n);
}

#endif
