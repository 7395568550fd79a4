#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One finished span of a job's trace: what the OTLP exporter sends.
public struct FinishedSpan: Sendable {
    /// OTLP span kinds.
    public struct Kind: Sendable, Equatable {
        public let rawValue: Int
        public static let `internal` = Kind(rawValue: 1)
        public static let server = Kind(rawValue: 2)
        public static let client = Kind(rawValue: 3)
        public static let consumer = Kind(rawValue: 5)
    }

    public var name: String
    /// The span's own trace and span id.
    public var context: TraceContext
    public var parentSpanID: String?
    public var kind: Kind
    public var startUnixNanos: UInt64
    public var endUnixNanos: UInt64
    /// Bounded, non-secret values only: ids, names from the configuration, statuses.
    public var attributes: [String: String]
    public var failed: Bool

    public init(
        name: String, context: TraceContext, parentSpanID: String?, kind: Kind, startUnixNanos: UInt64, endUnixNanos: UInt64,
        attributes: [String: String] = [:], failed: Bool = false
    ) {
        self.name = name
        self.context = context
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startUnixNanos = startUnixNanos
        self.endUnixNanos = max(startUnixNanos, endUnixNanos)
        self.attributes = attributes
        self.failed = failed
    }

    /// Now, in nanoseconds since the Unix epoch.
    public static func nowUnixNanos() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(max(0, spec.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, spec.tv_nsec))
    }
}

/// Where finished spans go: nowhere until the executable installs an exporter (when
/// `tracing.otlp_endpoint` is set), so recording costs one lock read when tracing is off.
public enum SpanRecorder {
    private static let sink = Mutex<(@Sendable (FinishedSpan) -> Void)?>(nil)

    /// Installs the process's exporter; a later call replaces it (tests).
    public static func bootstrap(_ record: @escaping @Sendable (FinishedSpan) -> Void) {
        sink.withLock { $0 = record }
    }

    /// Whether spans are recorded at all (callers skip building attributes when not).
    public static var isEnabled: Bool {
        sink.withLock { $0 != nil }
    }

    /// Hands the span to the exporter, which must never block (it drops when full).
    public static func record(_ span: FinishedSpan) {
        sink.withLock { $0 }?(span)
    }
}
