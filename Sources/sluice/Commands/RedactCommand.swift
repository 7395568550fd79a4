import ArgumentParser
import Foundation
import Redaction
import SluiceCore

/// `sluice redact`: the ingress's detectors over a file, for tests and for tenants checking
/// their policies.
struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Redact JSON lines {\"id\", \"text\"} from stdin; write {\"id\", \"spans\", \"redacted\"} to stdout.",
        discussion: """
            Spans are half-open offsets in Unicode scalars; types are EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN,
            IP_ADDRESS, SECRET, DENY_LIST and the names of custom patterns. Without a config (or without its
            'redaction:' section), every detector runs and values are masked. A line that cannot be read is
            reported on stderr with its number; the others are still written, and the exit status is 1.
            """
    )

    @Option(name: .long, help: "Path of sluice.yaml whose 'redaction:' section to apply (also SLUICE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Apply this tenant's overrides of 'redaction.tenants'.")
    var tenant: String?

    func run() throws {
        let policy = try loadPolicy()
        var output = [UInt8]()
        output.reserveCapacity(1 << 16)
        var failures = 0
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            if line.isEmpty { continue }
            do {
                try Self.process(line, policy: policy, into: &output)
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("sluice redact: line \(lineNumber): \(error)\n".utf8))
            }
            if output.count >= 1 << 16 { Self.flush(&output) }
        }
        Self.flush(&output)
        if failures > 0 { throw ExitCode(1) }
    }

    private func loadPolicy() throws -> RedactionPolicy {
        guard let path = config ?? ProcessInfo.processInfo.environment["SLUICE_CONFIG"] else { return RedactionPolicy() }
        guard let section = try ConfigurationLoader.load(path: path).redaction else { return RedactionPolicy() }
        do {
            let redactor = try JobRedactor(configuration: section)
            return tenant.map(redactor.policy(tenant:)) ?? redactor.defaultPolicy
        } catch {
            throw ConfigurationError("redaction: \(error)")
        }
    }

    struct LineError: Error, CustomStringConvertible {
        var description: String
    }

    static func process(_ line: String, policy: RedactionPolicy, into output: inout [UInt8]) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(Array(line.utf8))
        } catch {
            throw LineError(description: "not valid JSON: \(error)")
        }
        guard case .object(let fields) = value else { throw LineError(description: "expected an object {\"id\", \"text\"}, got \(value.typeName)") }
        guard let id = fields["id"] else { throw LineError(description: "'id' is missing") }
        guard case .string(let text)? = fields["text"] else {
            throw LineError(description: "'text' must be a string, got \(fields["text"]?.typeName ?? "nothing")")
        }
        let matches = policy.scanner.matches(in: text)
        var redaction = Redaction(policy: policy)
        let redacted = redaction.redact(text, matches: matches)
        output.append(contentsOf: #"{"id":"#.utf8)
        id.write(into: &output)
        output.append(contentsOf: #","spans":["#.utf8)
        for (index, span) in PIIScanner.scalarSpans(of: matches, in: text).enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #"{"start":\#(span.start),"end":\#(span.end),"type":"#.utf8)
            JSONValue.string(span.type.rawValue).write(into: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(contentsOf: #"],"redacted":"#.utf8)
        JSONValue.string(redacted).write(into: &output)
        output.append(contentsOf: "}\n".utf8)
    }

    private static func flush(_ output: inout [UInt8]) {
        guard !output.isEmpty else { return }
        FileHandle.standardOutput.write(Data(output))
        output.removeAll(keepingCapacity: true)
    }
}
