/// Exponential backoff with full jitter, the one retry policy of every retry loop.
///
/// Full jitter (a uniform wait between zero and the exponential ceiling) spreads the retries of
/// many jobs that failed together, so a provider or broker that comes back is not hit by a
/// synchronized wave. The ceiling doubles from `baseMs` per retry and stops at `capMs`; the
/// arithmetic saturates, so any retry number is safe.
public struct Backoff: Sendable, Equatable {
    /// The ceiling of the first retry's wait.
    public var baseMs: Int
    /// The largest ceiling.
    public var capMs: Int

    /// - Parameters: `baseMs` and `capMs` are clamped to at least 1 and `capMs` to at least `baseMs`.
    public init(baseMs: Int, capMs: Int) {
        self.baseMs = max(1, baseMs)
        self.capMs = max(self.baseMs, capMs)
    }

    /// The ceiling of the wait before retry number `retry` (1 is the first retry).
    public func ceilingMs(retry: Int) -> Int {
        let doublings = retry <= 1 ? 0 : min(retry - 1, 62)
        let (ceiling, overflow) = baseMs.multipliedReportingOverflow(by: 1 << doublings)
        return overflow ? capMs : min(capMs, ceiling)
    }

    /// A random wait in `0...ceilingMs(retry:)`.
    public func delayMs(retry: Int, using generator: inout some RandomNumberGenerator) -> Int {
        Int.random(in: 0...ceilingMs(retry: retry), using: &generator)
    }

    public func delayMs(retry: Int) -> Int {
        var generator = SystemRandomNumberGenerator()
        return delayMs(retry: retry, using: &generator)
    }
}
