/// A W3C trace context (`traceparent`): the trace a job belongs to and the span that caused
/// the current step.
///
/// Sluice starts or continues a trace at `POST /v1/jobs` and carries the header on every Kafka
/// record of the job, so one trace id ties the ingress's, the workers' and the ledger's log
/// lines (and exported spans) to the client's request. Only version `00` is produced; a
/// header of a later version is read by its first four fields, as the specification asks.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, never all zero.
    public let traceID: String
    /// 16 lowercase hex digits, never all zero.
    public let spanID: String
    /// Bit 0: the caller sampled this trace.
    public let flags: UInt8

    public var sampled: Bool { flags & 1 == 1 }

    /// The header value, `00-<trace id>-<span id>-<flags>`.
    public var traceparent: String {
        let hexFlags = String(flags, radix: 16)
        return "00-\(traceID)-\(spanID)-\(hexFlags.count == 1 ? "0" + hexFlags : hexFlags)"
    }

    public var description: String { traceparent }

    /// Parses a `traceparent` header; nil when it is malformed (wrong length, non-hex digits,
    /// an all-zero id, version `ff`), in which case the caller starts a new trace.
    public init?(traceparent: String) {
        let bytes = Array(traceparent.utf8)
        // Version 00 is exactly 55 bytes; a later version may append fields after a dash.
        guard bytes.count == 55 || (bytes.count > 55 && bytes[55] == UInt8(ascii: "-")) else { return nil }
        let version = bytes[0..<2], trace = bytes[3..<35], span = bytes[36..<52], flags = bytes[53..<55]
        guard bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-") else { return nil }
        guard [version, trace, span, flags].allSatisfy({ $0.allSatisfy(Self.isHex) }) else { return nil }
        let versionText = String(decoding: version, as: UTF8.self).lowercased()
        guard versionText != "ff", versionText != "00" || bytes.count == 55 else { return nil }
        guard trace.contains(where: { $0 != UInt8(ascii: "0") }), span.contains(where: { $0 != UInt8(ascii: "0") }) else { return nil }
        guard let flagBits = UInt8(String(decoding: flags, as: UTF8.self), radix: 16) else { return nil }
        self.traceID = String(decoding: trace, as: UTF8.self).lowercased()
        self.spanID = String(decoding: span, as: UTF8.self).lowercased()
        self.flags = flagBits
    }

    public init(traceID: String, spanID: String, flags: UInt8 = 1) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    /// A new trace with a random id, sampled.
    public static func start() -> TraceContext {
        var random = BufferedRandom()
        return TraceContext(traceID: hex(nonZero(&random)) + hex(random.next()), spanID: hex(nonZero(&random)), flags: 1)
    }

    /// The same trace with a new span id: the context to hand to a step this one causes (a
    /// provider call, a published record).
    public func child() -> TraceContext {
        var random = BufferedRandom()
        return TraceContext(traceID: traceID, spanID: Self.hex(Self.nonZero(&random)), flags: flags)
    }

    /// Continues `incoming` when it is well formed (as a child span of the caller's), else
    /// starts a new trace.
    public static func continuing(_ incoming: String?) -> TraceContext {
        incoming.flatMap(TraceContext.init(traceparent:))?.child() ?? .start()
    }

    /// The trace id of a header value, or nil when it is malformed.
    public static func traceID(of traceparent: String?) -> String? {
        traceparent.flatMap(TraceContext.init(traceparent:))?.traceID
    }

    // MARK: - Helpers

    private static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func nonZero(_ random: inout BufferedRandom) -> UInt64 {
        while true {
            let value = random.next() as UInt64
            if value != 0 { return value }
        }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
