import ArgumentParser
import Foundation
import SluiceCore
import SluiceHTTP

/// `sluice batch run`: a batch from a JSONL file for pipelines without an SDK.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Run OpenAI-format batch files through a Sluice server.", subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a JSONL batch input, create the batch and (with --wait) write its output when done.",
            discussion: """
                Each input line is {"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": {…}} \
                (OpenAI's batch input format). With --wait a progress bar (a plain line every few \
                seconds when stderr is not a terminal) shows done/failed/total, rate and ETA; the \
                output lines go to -o and failed lines to <output>.errors.jsonl.
                """)

        @Argument(help: "The JSONL input file.")
        var input: String

        @Option(name: [.short, .long], help: "Where to write the output lines (default: <input>.output.jsonl).")
        var output: String?

        @Option(name: .long, help: "Set this model in every line's body.")
        var model: String?

        @Flag(name: .long, help: "Wait until the batch ends and write its output.")
        var wait = false

        @Option(name: .long, help: "The Sluice server (also SLUICE_URL). Default: http://127.0.0.1:8080.")
        var url: String?

        @Option(name: .long, help: "An API key of the tenant (also SLUICE_API_KEY).")
        var key: String?

        @Option(name: .long, help: "Seconds between status polls (1 to 3600).")
        var pollSeconds: Int = 1

        func validate() throws {
            guard (1...3_600).contains(pollSeconds) else { throw ValidationError("--poll-seconds must be between 1 and 3600") }
            guard FileManager.default.isReadableFile(atPath: input) else { throw ValidationError("cannot read \(input)") }
        }

        func run() async throws {
            let env = ProcessInfo.processInfo.environment
            let base = (url ?? env["SLUICE_URL"] ?? "http://127.0.0.1:8080").trimmingSuffix("/")
            guard let key = key ?? env["SLUICE_API_KEY"], !key.isEmpty else {
                throw ValidationError("give --key or set SLUICE_API_KEY")
            }
            let client = BatchHTTP(base: base, key: key, http: try CurlHTTPClient())
            defer { client.http.shutdown() }

            let body = try Self.inputBytes(path: input, model: model)
            let file = try await client.upload(body, filename: (input as NSString).lastPathComponent)
            let created = try await client.json(
                "POST", "/v1/batches",
                ["input_file_id": .string(file), "endpoint": "/v1/chat/completions", "completion_window": "24h"])
            guard let id = created["id"]?.stringValue else { throw BatchCommandError("the server answered no batch id") }
            say("batch \(id) created from \(input) (file \(file))")
            guard wait else {
                say("poll it with: curl -H 'Authorization: Bearer …' \(base)/v1/batches/\(id)")
                return
            }
            let progress = ProgressReporter(isTerminal: isatty(STDERR_FILENO) == 1)
            var batch = created
            while !["completed", "failed", "expired", "cancelled"].contains(batch["status"]?.stringValue ?? "") {
                try await Task.sleep(for: .seconds(pollSeconds))
                batch = try await client.json("GET", "/v1/batches/\(id)")
                progress.show(batch)
            }
            progress.finish(batch)
            let destination = output ?? input + ".output.jsonl"
            let outputBytes = try await batch["output_file_id"]?.stringValue.asyncMap { try await client.content($0) } ?? []
            try Data(outputBytes).write(to: URL(fileURLWithPath: destination))
            say("\(batch["status"]?.stringValue ?? "?"): \(Self.lineCount(outputBytes)) output lines written to \(destination)")
            if let errorID = batch["error_file_id"]?.stringValue {
                let errors = try await client.content(errorID)
                let path = destination + ".errors.jsonl"
                try Data(errors).write(to: URL(fileURLWithPath: path))
                say("\(Self.lineCount(errors)) failed lines written to \(path)")
            }
            if batch["status"] == "failed" {
                throw BatchCommandError("the batch failed: \(batch["errors"].map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "")")
            }
        }

        /// Prints a line and flushes it: progress goes to stderr (unbuffered), and stdout into a
        /// file or pipe is block-buffered, so its lines ("batch … created") would otherwise land
        /// after the progress in a shared log.
        private func say(_ line: String) {
            print(line)
            fflush(nil)
        }

        static func lineCount(_ bytes: [UInt8]) -> Int { bytes.lazy.filter { $0 == 10 }.count }

        /// The input file, with `model` set in every line's body when one is given.
        static func inputBytes(path: String, model: String?) throws -> [UInt8] {
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            guard let model else { return data }
            var out: [UInt8] = []
            out.reserveCapacity(data.count)
            for line in data.split(separator: 10) {
                if var value = try? JSONValue.parse(line), case .object(var fields) = value, case .object(var body)? = fields["body"] {
                    body["model"] = .string(model)
                    fields["body"] = .object(body)
                    value = .object(fields)
                    out += value.serialized()
                } else {
                    out += line  // the server reports the line as invalid
                }
                out.append(10)
            }
            return out
        }
    }
}

struct BatchCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The few API calls `sluice batch run` makes.
struct BatchHTTP {
    let base: String
    let key: String
    let http: CurlHTTPClient

    func json(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        var headers = [HTTPHeader("Authorization", "Bearer \(key)")]
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        let response = try await http.execute(
            HTTPClientRequest(method: method, url: base + path, headers: headers, body: body?.serialized() ?? [], timeoutMs: 60_000))
        guard response.status == 200 else { throw BatchCommandError("\(method) \(path) answered \(response.status): \(response.bodyText)") }
        return try JSONValue.parse(response.body)
    }

    func upload(_ bytes: [UInt8], filename: String) async throws -> String {
        let boundary = "sluice-\(UUID().uuidString)"
        let safeName = filename.replacingOccurrences(of: "\"", with: "_")
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(safeName)\"\r\n".utf8)
        body += Array("Content-Type: application/jsonl\r\n\r\n".utf8) + bytes + Array("\r\n--\(boundary)--\r\n".utf8)
        let response = try await http.execute(HTTPClientRequest(
            method: "POST", url: base + "/v1/files",
            headers: [HTTPHeader("Authorization", "Bearer \(key)"), HTTPHeader("Content-Type", "multipart/form-data; boundary=\(boundary)")],
            body: body, timeoutMs: 600_000))
        guard response.status == 200, let id = (try JSONValue.parse(response.body))["id"]?.stringValue else {
            throw BatchCommandError("upload answered \(response.status): \(response.bodyText)")
        }
        return id
    }

    func content(_ fileID: String) async throws -> [UInt8] {
        let response = try await http.execute(HTTPClientRequest(
            url: base + "/v1/files/\(fileID)/content", headers: [HTTPHeader("Authorization", "Bearer \(key)")], timeoutMs: 600_000))
        guard response.status == 200 else { throw BatchCommandError("file \(fileID) answered \(response.status)") }
        return response.body
    }
}

/// Progress of a running batch on stderr: a bar redrawn in place on a terminal, otherwise a
/// plain line every few seconds when something changed.
final class ProgressReporter {
    let isTerminal: Bool
    let started = ContinuousClock.now
    private var lastLine = ""
    private var lastPrinted = ContinuousClock.now - .seconds(60)

    init(isTerminal: Bool) {
        self.isTerminal = isTerminal
    }

    func show(_ batch: JSONValue) {
        let line = Self.describe(batch, elapsed: ContinuousClock.now - started, barWidth: isTerminal ? 30 : 0)
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else if line != lastLine, ContinuousClock.now - lastPrinted >= .seconds(5) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
            lastPrinted = ContinuousClock.now
        }
        lastLine = line
    }

    func finish(_ batch: JSONValue) {
        let line = Self.describe(batch, elapsed: ContinuousClock.now - started, barWidth: isTerminal ? 30 : 0)
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }

    /// `[=====     ] 1200/5000 done, 3 failed  120.0/s  ETA 31s  (in_progress)`.
    static func describe(_ batch: JSONValue, elapsed: Duration, barWidth: Int) -> String {
        let counts = batch["request_counts"]
        let total = max(0, counts?["total"]?.intValue ?? 0)
        let done = max(0, counts?["completed"]?.intValue ?? 0)
        let failed = max(0, counts?["failed"]?.intValue ?? 0)
        let finished = min(total, done + failed)
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let rate = Double(finished) / seconds
        var text = ""
        if barWidth > 0 {
            let filled = total > 0 ? Int(Double(barWidth) * Double(finished) / Double(total)) : 0
            text += "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: barWidth - filled) + "] "
        }
        text += "\(done)/\(total) done, \(failed) failed  " + String(format: "%.1f/s", rate)
        if rate > 0, total > finished {
            let eta = Double(total - finished) / rate
            text += eta.isFinite && eta < 1e7 ? "  ETA \(Int(eta))s" : ""
        }
        return text + "  (\(batch["status"]?.stringValue ?? "?"))"
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
