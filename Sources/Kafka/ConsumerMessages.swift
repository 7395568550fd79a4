/// The messages of a `KafkaConsumer`, pulled one at a time.
///
/// Pull-based on purpose: a message counts as handed out (and towards `maxOutstanding`) only
/// when `next()` returns it, so the consumer knows exactly which offsets the app holds. Messages
/// fetched but not handed out at shutdown are not committed and are read again later.
///
/// - Important: one reader only. The sequence ends (returns nil) at graceful shutdown; a
///   cancelled `next()` returns nil too.
public struct ConsumerMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    public typealias Failure = Never

    let core: ConsumerCore

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(core: core)
    }

    /// Takes from the consumer's bounded buffer, suspending while it is empty or while
    /// `maxOutstanding` messages are handed out and not yet marked done.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let core: ConsumerCore

        public mutating func next() async -> KafkaMessage? {
            await core.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> KafkaMessage? {
            await core.next()
        }
    }
}
