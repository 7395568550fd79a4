import Foundation

/// The outcome of one `sluice bench` run: counts, throughput and latency percentiles.
public struct BenchReport: Sendable, CustomStringConvertible {
    /// Jobs answered 202.
    public var accepted: Int
    /// Jobs answered anything else, or whose submission failed in transport.
    public var rejected: Int
    public var succeeded: Int
    public var failed: Int
    public var cancelled: Int
    /// Accepted jobs still not terminal when the completion timeout passed.
    public var unfinished: Int
    /// From the first submission to the last submission's answer.
    public var acceptSeconds: Double
    /// From the first submission until the last job was seen terminal.
    public var completeSeconds: Double
    /// Client-side round trip of `POST /v1/jobs`, accepted or not.
    public var acceptLatency: LatencySummary
    /// Server-side `completed_at_ms − created_at_ms` of terminal jobs.
    public var endToEndLatency: LatencySummary
    /// The first few rejections, as `HTTP <status>: <body>` or the transport error.
    public var errorSamples: [String]

    public var acceptedPerSecond: Double { acceptSeconds > 0 ? Double(accepted) / acceptSeconds : 0 }
    /// Terminal jobs (succeeded, failed, cancelled) per second over ``completeSeconds``.
    public var completedPerSecond: Double { completeSeconds > 0 ? Double(terminal) / completeSeconds : 0 }
    public var terminal: Int { succeeded + failed + cancelled }

    public init(
        accepted: Int, rejected: Int, succeeded: Int, failed: Int, cancelled: Int, unfinished: Int,
        acceptSeconds: Double, completeSeconds: Double, acceptLatency: LatencySummary,
        endToEndLatency: LatencySummary, errorSamples: [String]
    ) {
        self.accepted = accepted
        self.rejected = rejected
        self.succeeded = succeeded
        self.failed = failed
        self.cancelled = cancelled
        self.unfinished = unfinished
        self.acceptSeconds = acceptSeconds
        self.completeSeconds = completeSeconds
        self.acceptLatency = acceptLatency
        self.endToEndLatency = endToEndLatency
        self.errorSamples = errorSamples
    }

    // MARK: - Table

    public var description: String {
        var lines: [String] = []
        lines.append("jobs")
        lines.append(row("accepted", accepted, "\(fixed(acceptedPerSecond, 1))/s over \(fixed(acceptSeconds, 2)) s"))
        lines.append(row("rejected", rejected))
        lines.append(row("succeeded", succeeded))
        lines.append(row("failed", failed))
        lines.append(row("cancelled", cancelled))
        lines.append(row("unfinished", unfinished))
        lines.append(row("completed", terminal, "\(fixed(completedPerSecond, 1))/s over \(fixed(completeSeconds, 2)) s"))
        lines.append("")
        lines.append(pad("latency (ms)", 16) + ["n", "p50", "p90", "p99", "max"].map { pad($0, 10, right: true) }.joined())
        lines.append(latencyRow("accept", acceptLatency))
        lines.append(latencyRow("end-to-end", endToEndLatency))
        if !errorSamples.isEmpty {
            lines.append("")
            lines.append("first errors")
            lines.append(contentsOf: errorSamples.map { "  " + $0 })
        }
        return lines.joined(separator: "\n")
    }

    private func row(_ name: String, _ count: Int, _ note: String = "") -> String {
        pad("  " + name, 16) + pad("\(count)", 10, right: true) + (note.isEmpty ? "" : "   " + note)
    }

    private func latencyRow(_ name: String, _ summary: LatencySummary) -> String {
        pad("  " + name, 16) + pad("\(summary.count)", 10, right: true)
            + [summary.p50Ms, summary.p90Ms, summary.p99Ms, summary.maxMs].map { pad(fixed($0, 1), 10, right: true) }.joined()
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }

    private func fixed(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}
