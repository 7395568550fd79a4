import Foundation

/// Runs blocking librdkafka calls on their own Foundation threads.
///
/// `rd_kafka_poll`, `rd_kafka_consumer_poll`, `rd_kafka_flush`, admin result waits and
/// `rd_kafka_destroy` block for up to seconds; on the Swift concurrency pool (two threads on
/// this machine) that would stall every other task.
enum DedicatedThread {
    /// Starts `body` on a new thread and returns at once.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    /// Runs `body` on a new thread and suspends (without holding a pool thread) until it returns.
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start(name: name) {
                continuation.resume(returning: body())
            }
        }
    }
}
