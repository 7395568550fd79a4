import GRDB

/// The ledger's schema history.
///
/// Each migration is frozen once released: it names tables and columns with string literals
/// and never refers to the record structs, so that changing a struct later cannot change what
/// an old migration does to an old file. New columns come as new migrations.
enum LedgerMigrations {
    /// The migrator that brings any ledger file up to date.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-audit-jobs-results") { db in
            try createV1(db)
        }
        migrator.registerMigration("v2-ledger-rejects") { db in
            try createV2(db)
        }
        migrator.registerMigration("v3-idempotency-keys") { db in
            try createV3(db)
        }
        migrator.registerMigration("v4-usage-cost") { db in
            try createV4(db)
        }
        migrator.registerMigration("v5-cancel") { db in
            try createV5(db)
        }
        migrator.registerMigration("v6-audit-chain") { db in
            try createV6(db)
        }
        migrator.registerMigration("v8-job-request") { db in
            try createV8(db)
        }
        migrator.registerMigration("v9-tenancy") { db in
            try createV9(db)
        }
        migrator.registerMigration("v11-batches") { db in
            try createV11(db)
        }
        migrator.registerMigration("v12-webhooks") { db in
            try createV12Webhooks(db)
        }
        migrator.registerMigration("v13-tenant-data-keys") { db in
            try createV13(db)
        }
        migrator.registerMigration("v14-batch-ingest-lease") { db in
            try createV14BatchIngestLease(db)
        }
        migrator.registerMigration("v15-job-injection-flags") { db in
            try createV15JobInjectionFlags(db)
        }
        return migrator
    }

    // MARK: - v1

    private static func createV1(_ db: Database) throws {
        // `seq` orders the log and will anchor the hash chain; `id` is the event's own key, unique
        // so that a redelivered event is ignored.
        try db.create(table: "audit_events") { t in
            t.autoIncrementedPrimaryKey("seq")
            t.column("id", .text).notNull().unique()
            t.column("tenant", .text).notNull()
            t.column("job_id", .text).notNull()
            t.column("type", .text).notNull()
            t.column("attempt", .integer).notNull()
            t.column("at_ms", .integer).notNull()
            t.column("actor", .text).notNull()
            t.column("detail", .text)
            t.column("prev_hash", .blob)
            t.column("hash", .blob)
        }
        try db.create(index: "audit_events_on_tenant_seq", on: "audit_events", columns: ["tenant", "seq"])
        try db.create(index: "audit_events_on_job_id_seq", on: "audit_events", columns: ["job_id", "seq"])

        // One row per job. `status_attempt` and `status_at_ms` remember which event set `status`
        // so that a late, older event cannot move the job backwards. `accepted` tells whether
        // job.accepted has filled model, priority and creation time, or they are still guesses.
        try db.create(table: "jobs") { t in
            t.primaryKey("id", .text)
            t.column("tenant", .text).notNull()
            t.column("status", .text).notNull()
            t.column("status_attempt", .integer).notNull()
            t.column("status_at_ms", .integer).notNull()
            t.column("model", .text).notNull()
            t.column("priority", .text).notNull()
            t.column("attempts", .integer).notNull()
            t.column("created_at_ms", .integer).notNull()
            t.column("started_at_ms", .integer)
            t.column("completed_at_ms", .integer)
            t.column("batch_id", .text)
            t.column("metadata", .text)
            t.column("idempotency_key", .text)
            t.column("accepted", .boolean).notNull()
        }
        try db.create(index: "jobs_on_tenant_status", on: "jobs", columns: ["tenant", "status"])
        try db.create(index: "jobs_on_tenant_created", on: "jobs", columns: ["tenant", "created_at_ms"])
        try db.create(
            index: "jobs_on_batch_id", on: "jobs", columns: ["batch_id"], condition: Column("batch_id") != nil)
        try db.create(
            index: "jobs_on_tenant_idempotency_key", on: "jobs", columns: ["tenant", "idempotency_key"],
            condition: Column("idempotency_key") != nil)

        // One row per job: the first terminal outcome; later copies are ignored.
        try db.create(table: "results") { t in
            t.primaryKey("job_id", .text)
            t.column("tenant", .text).notNull()
            t.column("status", .text).notNull()
            t.column("attempt", .integer).notNull()
            t.column("model", .text).notNull()
            t.column("route", .text)
            t.column("response", .text)
            t.column("error", .text)
            t.column("prompt_tokens", .integer)
            t.column("completion_tokens", .integer)
            t.column("total_tokens", .integer)
            t.column("started_at_ms", .integer).notNull()
            t.column("finished_at_ms", .integer).notNull()
        }
    }

    // MARK: - v2

    private static func createV2(_ db: Database) throws {
        // Records the ledger could not store (undecodable, or refused by SQLite for their own
        // content), kept so that the batch around them can be written and its offsets committed
        // without losing them. The unique position makes a redelivered reject change nothing.
        try db.create(table: "ledger_rejects") { t in
            t.autoIncrementedPrimaryKey("seq")
            t.column("topic", .text).notNull()
            t.column("kafka_partition", .integer).notNull()
            t.column("kafka_offset", .integer).notNull()
            t.column("value", .blob).notNull()
            t.column("value_bytes", .integer).notNull()
            t.column("error", .text).notNull()
            t.column("at_ms", .integer).notNull()
        }
        try db.create(
            index: "ledger_rejects_on_position", on: "ledger_rejects",
            columns: ["topic", "kafka_partition", "kafka_offset"], unique: true)
    }

    // MARK: - v3

    private static func createV3(_ db: Database) throws {
        // Idempotency-Key bindings, kept for 24 h so that every ingress process (and a restarted
        // one) replays a retried request instead of queueing a second job. The index on
        // `created_at_ms` lets the writer delete expired rows a bounded number at a time.
        try db.create(table: "idempotency_keys") { t in
            t.column("tenant", .text).notNull()
            t.column("idempotency_key", .text).notNull()
            t.column("job_id", .text).notNull()
            t.column("fingerprint", .text).notNull()
            t.column("created_at_ms", .integer).notNull()
            t.primaryKey(["tenant", "idempotency_key"])
        }
        try db.create(index: "idempotency_keys_on_created", on: "idempotency_keys", columns: ["created_at_ms"])
    }

    // MARK: - v4

    private static func createV4(_ db: Database) throws {
        // Each result's cost, from its usage and the configured price of its model, in the
        // currency named beside it. Null for results stored before, or without a price.
        try db.alter(table: "results") { t in
            t.add(column: "cost", .double)
            t.add(column: "currency", .text)
        }
    }

    // MARK: - v5

    private static func createV5(_ db: Database) throws {
        // Runs of a job replayed from the DLQ start again at attempt 1 (and cancellation made
        // `cancelled` a result status): `status_replay` says which run set the job's status and
        // `replay` which run a result belongs to, so a later run reopens a failed job and its
        // result replaces the earlier one, while late records of an earlier run change nothing.
        try db.alter(table: "jobs") { t in
            t.add(column: "status_replay", .integer).notNull().defaults(to: 0)
        }
        try db.alter(table: "results") { t in
            t.add(column: "replay", .integer).notNull().defaults(to: 0)
        }
    }

    // MARK: - v6

    private static func createV6(_ db: Database) throws {
        // The per-tenant hash chain (see `AuditHashing`): each event's 1-based position in its
        // tenant's chain and the digest of its payload (kept when the payload is purged, so the
        // chain still verifies). The Kafka position says where the event came from, for
        // rebuilds and for an auditor comparing the ledger with the topic. Events stored before
        // this migration are chained when the writer opens the file.
        try db.alter(table: "audit_events") { t in
            t.add(column: "chain_index", .integer)
            t.add(column: "payload_digest", .blob)
            t.add(column: "kafka_partition", .integer)
            t.add(column: "kafka_offset", .integer)
            t.add(column: "purged_at_ms", .integer)
            // Which run of the job (a DLQ replay) the event belongs to; the chain covers it.
            t.add(column: "replay", .integer).notNull().defaults(to: 0)
        }
        try db.create(
            index: "audit_events_on_tenant_chain_index", on: "audit_events", columns: ["tenant", "chain_index"],
            unique: true, condition: Column("chain_index") != nil)

        // The last link of each tenant's chain, so that appending needs no scan.
        try db.create(table: "audit_chain_heads") { t in
            t.primaryKey("tenant", .text)
            t.column("length", .integer).notNull()
            t.column("hash", .blob).notNull()
        }

        // Signed checkpoints: chain heads and a Merkle root over the events (by `seq`) since the
        // previous checkpoint. `heads` is JSON text ({tenant: {length, hash}}).
        try db.create(table: "audit_checkpoints") { t in
            t.primaryKey("seq", .integer)
            t.column("at_ms", .integer).notNull()
            t.column("first_seq", .integer).notNull()
            t.column("last_seq", .integer).notNull()
            t.column("event_count", .integer).notNull()
            t.column("merkle_root", .blob).notNull()
            t.column("heads", .text).notNull()
            t.column("previous", .blob).notNull()
            t.column("key_id", .text).notNull()
            t.column("signature", .blob).notNull()
        }

        // The public halves of the keys that signed checkpoints, for readers without the key file.
        try db.create(table: "audit_signing_keys") { t in
            t.primaryKey("key_id", .text)
            t.column("public_key", .blob).notNull()
            t.column("created_at_ms", .integer).notNull()
        }
    }

    // MARK: - v8

    private static func createV8(_ db: Database) throws {
        // The job record of each accepted job that has no result yet, as its job topic holds
        // it, so that `sluice jobs requeue --unfinished` can queue it again after a broker lost
        // it. A row is deleted when the job's result is stored: prompts are kept only while
        // their job may still need them. `replay` is the run the row belongs to.
        try db.create(table: "job_requests") { t in
            t.primaryKey("job_id", .text)
            t.column("tenant", .text).notNull()
            t.column("replay", .integer).notNull()
            t.column("created_at_ms", .integer).notNull()
            t.column("envelope", .blob).notNull()
        }
    }

    // MARK: - v9

    private static func createV9(_ db: Database) throws {
        // Tenants an admin changed at runtime: each nullable column overrides the config file's
        // value when set, so that a limit edited over HTTP needs no restart.
        try db.create(table: "tenants") { t in
            t.primaryKey("id", .text)
            t.column("allow_p0", .boolean)
            t.column("sub_keys", .integer)
            t.column("requests_per_second", .double)
            t.column("burst", .integer)
            t.column("max_in_flight", .integer)
            t.column("tokens_per_day", .integer)
            t.column("monthly_budget", .double)
            t.column("updated_at_ms", .integer).notNull()
        }
        // API keys: only a salted SHA-256 of the key is kept; `key_id` is the key's public part.
        try db.create(table: "api_keys") { t in
            t.primaryKey("key_id", .text)
            t.column("tenant", .text).notNull()
            t.column("role", .text).notNull()
            t.column("salt", .blob).notNull()
            t.column("hash", .blob).notNull()
            t.column("created_at_ms", .integer).notNull()
            t.column("expires_at_ms", .integer)
            t.column("revoked_at_ms", .integer)
        }
        // The tenants an auditor key may read.
        try db.create(table: "auditor_grants") { t in
            t.column("key_id", .text).notNull()
            t.column("tenant", .text).notNull()
            t.primaryKey(["key_id", "tenant"])
        }
        // Estimated tokens per tenant and UTC day, added to by every ingress process.
        try db.create(table: "tenant_daily_tokens") { t in
            t.column("tenant", .text).notNull()
            t.column("day", .text).notNull()
            t.column("tokens", .integer).notNull()
            t.primaryKey(["tenant", "day"])
        }
        // The monthly budget sums a tenant's costs since the month began.
        try db.create(index: "results_on_tenant_finished", on: "results", columns: ["tenant", "finished_at_ms"])
    }

    // MARK: - v13

    private static func createV13(_ db: Database) throws {
        // One data key per tenant, wrapped by the master key (which is never stored here).
        // Erasing a tenant sets `wrapped_key` to NULL and stamps `erased_at_ms`: the row stays
        // so that no new key is made for the tenant and its sealed payloads stay unreadable.
        try db.create(table: "tenant_data_keys") { t in
            t.primaryKey("tenant", .text)
            t.column("wrapped_key", .blob)
            t.column("created_at_ms", .integer).notNull()
            t.column("erased_at_ms", .integer)
        }
    }

    // MARK: - v12 (webhooks)

    private static func createV12Webhooks(_ db: Database) throws {
        // Endpoints registered over HTTP. `secrets` holds the signing secrets (space-separated,
        // newest first): the webhook workers sign with them, so they cannot be hashed.
        try db.create(table: "webhook_endpoints") { t in
            t.primaryKey("id", .text)
            t.column("tenant", .text).notNull()
            t.column("url", .text).notNull()
            t.column("secrets", .text).notNull()
            // Event types, comma-separated; empty means all.
            t.column("events", .text).notNull()
            t.column("created_at_ms", .integer).notNull()
            t.column("disabled_at_ms", .integer)
        }
        try db.create(index: "webhook_endpoints_on_tenant", on: "webhook_endpoints", columns: ["tenant"])

        // One row per (event, endpoint), filled from `webhook.attempt` audit events.
        try db.create(table: "webhook_deliveries") { t in
            t.primaryKey("id", .text)
            t.column("tenant", .text).notNull()
            t.column("subject_id", .text).notNull()
            t.column("type", .text).notNull()
            t.column("url", .text).notNull()
            t.column("endpoint_id", .text).notNull()
            t.column("status", .text).notNull()
            t.column("attempts", .integer).notNull()
            t.column("payload", .text)
            t.column("created_at_ms", .integer).notNull()
            t.column("updated_at_ms", .integer).notNull()
        }
        try db.create(index: "webhook_deliveries_on_tenant_created", on: "webhook_deliveries", columns: ["tenant", "created_at_ms"])
        try db.create(index: "webhook_deliveries_on_subject", on: "webhook_deliveries", columns: ["subject_id"])

        try db.create(table: "webhook_attempts") { t in
            t.column("delivery_id", .text).notNull()
            t.column("attempt", .integer).notNull()
            t.column("at_ms", .integer).notNull()
            t.column("outcome", .text).notNull()
            t.column("status_code", .integer)
            t.column("error", .text)
            t.column("duration_ms", .integer)
            t.primaryKey(["delivery_id", "attempt"])
        }
    }

    // MARK: - v11

    private static func createV11(_ db: Database) throws {
        // Uploaded and generated files; their bytes live on disk under the files directory,
        // named by id. Times are Unix milliseconds.
        try db.create(table: "files") { t in
            t.primaryKey("id", .text)
            t.column("tenant", .text).notNull()
            t.column("filename", .text).notNull()
            t.column("purpose", .text).notNull()
            t.column("bytes", .integer).notNull()
            t.column("created_at_ms", .integer).notNull()
            t.column("expires_at_ms", .integer)
        }
        try db.create(index: "files_on_tenant_id", on: "files", columns: ["tenant", "id"])

        // Batches of both front doors (`kind` openai|anthropic). Counts are kept current by the
        // ledger's batch finalizer; `ingested` says the ingress has queued every line.
        try db.create(table: "batches") { t in
            t.primaryKey("id", .text)
            t.column("tenant", .text).notNull()
            t.column("kind", .text).notNull()
            t.column("status", .text).notNull()
            t.column("endpoint", .text).notNull()
            t.column("input_file_id", .text).notNull()
            t.column("completion_window", .text).notNull()
            t.column("metadata", .text)
            t.column("model", .text)
            t.column("webhook_url", .text)
            t.column("created_at_ms", .integer).notNull()
            t.column("expires_at_ms", .integer).notNull()
            t.column("in_progress_at_ms", .integer)
            t.column("finalizing_at_ms", .integer)
            t.column("completed_at_ms", .integer)
            t.column("failed_at_ms", .integer)
            t.column("expired_at_ms", .integer)
            t.column("cancelling_at_ms", .integer)
            t.column("cancelled_at_ms", .integer)
            t.column("output_file_id", .text)
            t.column("error_file_id", .text)
            t.column("errors", .text)
            t.column("total", .integer).notNull()
            t.column("completed", .integer).notNull()
            t.column("failed", .integer).notNull()
            t.column("invalid", .integer).notNull()
            t.column("cancelled_count", .integer).notNull()
            t.column("expired_count", .integer).notNull()
            t.column("job_count", .integer).notNull()
            t.column("ingested", .boolean).notNull()
            t.column("input_tokens", .integer).notNull()
            t.column("output_tokens", .integer).notNull()
        }
        try db.create(index: "batches_on_tenant_kind_id", on: "batches", columns: ["tenant", "kind", "id"])
        try db.create(index: "batches_on_status", on: "batches", columns: ["status"])

        // Each valid line of a batch and the job that runs it; joined with `results` by job id.
        try db.create(table: "batch_requests") { t in
            t.column("batch_id", .text).notNull()
            t.column("ordinal", .integer).notNull()
            t.column("custom_id", .text).notNull()
            t.column("job_id", .text).notNull()
            t.primaryKey(["batch_id", "ordinal"])
        }
    }
}
