import Foundation

/// Where components read the time of day (Unix milliseconds, the unit of every envelope).
///
/// Injected rather than read from `Date()` in place, so tests can put a job past its deadline
/// or a retry past its not-before time without sleeping.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Int64

    public init(_ read: @escaping @Sendable () -> Int64) {
        self.read = read
    }

    /// Milliseconds since the Unix epoch.
    public func nowMs() -> Int64 { read() }

    /// The machine's clock.
    public static let system = WallClock { Int64(Date().timeIntervalSince1970 * 1000) }
}
