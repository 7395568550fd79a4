// MARK: - Ranges of the numbers a record may carry

extension Wire {
    /// Attempt numbers a job, result or audit record may carry.
    ///
    /// Records on Kafka are untrusted input: a producer bug or a hand-made record could carry
    /// `attempt = Int64.max`, and the worker adds to attempts (`attempt + maxAttempts`). Bounding
    /// them where records are read keeps that arithmetic far from overflow: 10 000 allows a job
    /// to be replayed from the DLQ a hundred times at the largest `workers.max_attempts` (100).
    public static let attemptRange: ClosedRange<Int> = 1...10_000

    /// Replay numbers (``JobEnvelope/replay``) a record may carry: 0 for a job never replayed.
    /// A DLQ replay adds one; ten thousand replays of one job is far past any real use.
    public static let replayRange: ClosedRange<Int> = 0...10_000

    /// Unix-millisecond timestamps a record may carry: the epoch up to the end of year 9999.
    ///
    /// Anything outside is a corrupt record, not a time; bounding it keeps differences of two
    /// timestamps (durations, deadlines) inside `Int64`.
    public static let timestampRangeMs: ClosedRange<Int64> = 0...253_402_300_799_999
}
