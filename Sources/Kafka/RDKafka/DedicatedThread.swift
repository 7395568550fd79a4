import Foundation

/// Runs blocking work on its own Foundation thread, off the Swift concurrency pool.
///
/// `rd_kafka_poll`, `rd_kafka_consumer_poll`, `rd_kafka_flush`, admin result waits and
/// `rd_kafka_destroy` block for up to seconds; on the Swift concurrency pool (two threads on
/// this machine) that would stall every other task. Public because the same holds for any
/// blocking or long CPU-bound work: a child process waited for, a test's minute-long loop.
public enum DedicatedThread {
    /// Starts `body` on a new thread and returns at once.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    /// Runs `body` on a new thread and suspends (without holding a pool thread) until it returns.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start(name: name) {
                continuation.resume(returning: body())
            }
        }
    }

    /// ``run(name:_:)`` for work that throws; the error is rethrown to the awaiting task.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            start(name: name) {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
