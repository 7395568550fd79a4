#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line to standard error.
///
/// Each line has `timestamp` (RFC 3339, UTC, milliseconds), `level`, `logger`, `message`, then
/// the metadata as string fields: `job_id`, `tenant` and `trace_id` when the line is about a
/// job (``Logging/Logger/forJob(_:)``). Log shippers index those without parsing messages.
///
/// - Important: metadata is written as given; callers must not put prompt text, response
///   bodies, headers or keys in it (the tests grep the output of a run for a prompt and a key).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    /// One line is written with one `write(2)` under this lock, so lines of concurrent tasks
    /// never interleave.
    private static let output = Mutex<Void>(())

    public init(label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.line(
            timestamp: Self.timestamp(), level: event.level, label: label, message: event.message.description, metadata: merged,
            source: event.source, file: event.file, line: event.line)
        Self.output.withLock { _ in
            line.withUnsafeBufferPointer { buffer in
                var offset = 0
                while offset < buffer.count {
                    guard let base = buffer.baseAddress else { break }
                    let written = write(2, base + offset, buffer.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }

    // MARK: - Formatting

    /// The JSON line (with its newline). Key order is fixed: the four standard fields, then
    /// metadata sorted by key; metadata cannot override a standard field.
    public static func line(
        timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
        source: String, file: String, line: UInt
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + message.utf8.count)
        func field(_ key: String, _ value: String) {
            out.append(out.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(value, to: &out)
        }
        field("timestamp", timestamp)
        field("level", level.rawValue)
        field("logger", label)
        field("message", message)
        let reserved: Set<String> = ["timestamp", "level", "logger", "message"]
        for key in metadata.keys.sorted() where !reserved.contains(key) {
            if let value = metadata[key] { field(key, flatten(value)) }
        }
        if level >= .error { field("source", "\(file.split(separator: "/").last ?? ""):\(line)") }
        out.append(UInt8(ascii: "}"))
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): "[" + a.map(flatten).joined(separator: ", ") + "]"
        case .dictionary(let d): "{" + d.keys.sorted().map { "\($0): \(d[$0].map(flatten) ?? "")" }.joined(separator: ", ") + "}"
        }
    }

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Now as `2026-12-03T17:04:05.123Z`.
    public static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = time_t(spec.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ n: Int32, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let millis = Int32(spec.tv_nsec / 1_000_000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
    }
}

extension Logger {
    /// This logger with the job's id, tenant and trace id as metadata, for every line about it.
    public func forJob(_ job: JobEnvelope) -> Logger {
        var logger = self
        logger[metadataKey: "job_id"] = .string(job.id)
        logger[metadataKey: "tenant"] = .string(job.tenant)
        if let trace = TraceContext.traceID(of: job.traceparent) { logger[metadataKey: "trace_id"] = .string(trace) }
        return logger
    }

    /// A debug line about `job`, through ``forJob(_:)``. That copies metadata, so it is made
    /// only when the line will be written: at the default `info` level profiles showed it for
    /// every job on the hot path.
    public func debug(job: JobEnvelope, _ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata? = nil) {
        guard logLevel <= .debug else { return }
        forJob(job).debug(message(), metadata: metadata())
    }
}
