import Metrics

/// The ledger writer's metrics (swift-metrics; the executable picks the backend).
enum LedgerMetrics {
    /// `sluice_ledger_records_written_total{kind="audit"|"result"}` counts the decoded records
    /// of committed batches (a redelivered record counts again: the store ignored it, but the
    /// write was done); `sluice_ledger_records_set_aside_total` counts those of them, and the
    /// undecodable ones, that went to `ledger_rejects` instead.
    ///
    /// `sluice_ledger_batches_total` and `sluice_ledger_batch_write_seconds` time each batch's
    /// transaction (retries of a failing write included): the ledger's write rate and how close
    /// it is to falling behind.
    static func written(_ entries: [LedgerEntry], setAside: Int, elapsed: Duration) {
        Counter(label: "sluice_ledger_batches_total").increment()
        Timer(label: "sluice_ledger_batch_write_seconds").record(duration: elapsed)
        var audit = 0
        for entry in entries {
            if case .audit = entry.record { audit += 1 }
        }
        Counter(label: "sluice_ledger_records_written_total", dimensions: [("kind", "audit")]).increment(by: audit)
        Counter(label: "sluice_ledger_records_written_total", dimensions: [("kind", "result")]).increment(by: entries.count - audit)
        Counter(label: "sluice_ledger_records_set_aside_total").increment(by: max(0, setAside))
    }
}
