import SluiceCore

/// Where a job stands, with enough context to decide whether a newly arrived event moves it.
///
/// Audit events and results travel on different topics and partitions, and every stage is
/// at-least-once, so the ledger sees them in any order and sometimes twice. The status is
/// therefore not "the last event applied" but the most advanced one seen, which makes the
/// outcome independent of arrival order.
struct JobProgress: Equatable {
    var status: JobStatus
    var attempt: Int
    var atMs: Int64
    /// Which run of the job (``JobEnvelope/replay``): a replay from the DLQ is a new run.
    var replay: Int = 0

    /// Whether `candidate` describes a later point in the job's life than `self`.
    ///
    /// - A later run (a DLQ replay) beats anything of an earlier run, terminal or not; an
    ///   earlier run's record never moves a later run's job.
    /// - Within one run, a terminal status is final: the first one recorded stays (a late copy, or a racing
    ///   cancellation, does not rewrite history).
    /// - Any terminal status beats any non-terminal one.
    /// - Otherwise the higher attempt wins; within one attempt running and retrying beat
    ///   queued, and between running and retrying the later event wins (a worker may number
    ///   its retrying event with the failed attempt or with the next one; time orders both).
    func isSuperseded(by candidate: JobProgress) -> Bool {
        if candidate.replay != replay { return candidate.replay > replay }
        if status.isTerminal { return false }
        if candidate.status.isTerminal { return true }
        if candidate.attempt != attempt { return candidate.attempt > attempt }
        let (mine, theirs) = (Self.phase(status), Self.phase(candidate.status))
        if mine != theirs { return theirs > mine }
        return theirs > 0 && candidate.atMs > atMs
    }

    /// Queued comes before work has started on an attempt; running and retrying after.
    private static func phase(_ status: JobStatus) -> Int {
        status == .queued ? 0 : 1
    }
}
