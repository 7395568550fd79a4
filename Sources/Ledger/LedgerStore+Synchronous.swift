extension LedgerStore {
    /// SQLite's `synchronous` setting for the writer's connection: how long a commit waits for
    /// the disk.
    ///
    /// A struct with static members rather than an enum, so that another level can be added
    /// without breaking callers' switches.
    public struct Synchronous: Hashable, Sendable, CustomStringConvertible {
        private enum Level: String {
            case normal = "NORMAL", full = "FULL"
        }

        private let level: Level
        private init(_ level: Level) { self.level = level }

        /// A commit fsyncs the WAL before it returns: it survives a power failure. The default.
        public static let full = Synchronous(.full)
        /// The WAL is fsynced only at checkpoints: a commit survives a process crash, but the
        /// last ones may be lost on power failure. Only for measuring what `.full` costs.
        public static let normal = Synchronous(.normal)

        /// Parses `normal` or `full` (any case), as given to a benchmark knob.
        public init?(parsing text: String) {
            guard let level = Level(rawValue: text.uppercased()) else { return nil }
            self.level = level
        }

        var pragmaValue: String { level.rawValue }

        public var description: String { level.rawValue.lowercased() }
    }
}
