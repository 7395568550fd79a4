import Foundation
import SluiceCore
import Testing

/// `sluice batch run … --wait`, the real binary against a running `sluice serve` on the stub
/// provider, with its output going to a file (not a terminal: plain progress lines).
@Suite("sluice batch run end to end", .serialized)
struct BatchCommandEndToEndTests {
    @Test("batch run --wait writes one output line per good custom_id, reports the bad line, exits 0", .timeLimit(.minutes(5)))
    func runAndWait() async throws {
        let d = try await BatchEndToEndTests.started("batch-cli", latencyMs: 20)
        let count = 60
        var text = ""
        for i in 0..<count {
            text += #"{"custom_id":"cli-\#(i)","method":"POST","url":"/v1/chat/completions","body":{"model":"demo","messages":[{"role":"user","content":"line \#(i)"}]}}"# + "\n"
        }
        text += #"{"custom_id":"cli-bad","method":"POST","url":"/v1/embeddings","body":{"model":"demo","input":"x"}}"# + "\n"
        let input = "\(d.dir)/input.jsonl"
        let output = "\(d.dir)/output.jsonl"
        try text.write(toFile: input, atomically: true, encoding: .utf8)

        let log = "\(d.dir)/batch-run.log"
        let process = try SluiceProcess(
            name: "batch-run",
            arguments: ["batch", "run", input, "-o", output, "--wait", "--url", d.baseURL, "--key", Deployment.key(for: "acme")],
            logPath: log)
        let status = await process.exitStatus()
        let printed = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "batch run exited \(status): \(process.logTail())")

        let lines = try Data(contentsOf: URL(fileURLWithPath: output)).split(separator: 10).map { try JSONValue.parse(Array($0)) }
        #expect(lines.count == count)
        #expect(Set(lines.compactMap { $0["custom_id"]?.stringValue }) == Set((0..<count).map { "cli-\($0)" }))
        #expect(lines.allSatisfy { $0["response"]?["status_code"] == 200 && $0["response"]?["body"]?["choices"] != nil })
        // Each answer is its own request's (the stub echoes the prompt).
        #expect(lines.allSatisfy { line in
            let id = line["custom_id"]?.stringValue?.dropFirst(4) ?? ""
            let content = line["response"]?["body"]?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
            return content.contains("line \(id)")
        })

        let errors = try Data(contentsOf: URL(fileURLWithPath: output + ".errors.jsonl")).split(separator: 10).map { try JSONValue.parse(Array($0)) }
        #expect(errors.count == 1)
        #expect(errors.first?["custom_id"] == "cli-bad")
        #expect(errors.first?["error"]?["code"] == "url_mismatch")
        #expect(errors.first?["error"]?["line"] == .int(Int64(count + 1)))

        // Plain lines, no terminal control sequences, and a summary naming both files.
        #expect(!printed.contains("\u{1B}["))
        #expect(printed.contains("\(count)/\(count + 1) done, 1 failed"))
        #expect(printed.contains("(completed)"))
        #expect(printed.contains("\(count) output lines written to \(output)"))
        #expect(printed.contains("1 failed lines written to \(output).errors.jsonl"))
        // In the order they happened, although stdout and stderr share the log.
        let created = printed.range(of: "batch batch_")?.lowerBound
        let progress = printed.range(of: " done, ")?.lowerBound
        #expect(created != nil && progress != nil && created! < progress!, "out of order: \(printed)")
        #expect(try await d.stubCalls().total == count)
    }
}
