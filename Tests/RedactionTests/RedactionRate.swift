import Foundation
import SluiceCore
import Testing

@testable import Redaction

/// Redaction throughput on one core, and the time it adds to one 1 KB prompt.
///
/// Runs only when `SLUICE_REDACTION_BENCH` is set, prints its numbers and asserts nothing about
/// speed (the numbers go to BENCHMARKS.md, "Redaction"). Times are this thread's CPU time (one
/// core, whatever else the machine runs) and wall time:
///
///     SLUICE_REDACTION_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter RedactionRate
@Suite("RedactionRate", .serialized, .enabled(if: ProcessInfo.processInfo.environment["SLUICE_REDACTION_BENCH"] != nil, "set SLUICE_REDACTION_BENCH=1 to measure"))
struct RedactionRate {
    /// Prompts as applications send them: mostly prose (support tickets, e-mails, code review
    /// requests) with a value or two per kilobyte.
    static func realisticPrompts(count: Int, seed: UInt64) -> [String] {
        var corpus = LabelledCorpus(seed: seed)
        var rng = SplitMix64(seed: seed ^ 0xABCD)
        let prose = [
            "Please summarise the following support conversation and suggest the next step for the agent. ",
            "The customer says the export to CSV fails with a timeout after about thirty seconds, every time since Monday. ",
            "Bitte antworte freundlich und auf Deutsch; der Kunde wartet seit drei Tagen auf eine Rückmeldung zur Lieferung. ",
            "Merci de reformuler ce paragraphe pour qu'il soit plus clair, sans changer le sens ni le ton général du message. ",
            "以下のレビューコメントを要約し、優先度の高い指摘から順に並べてください。 ",
            "Here is the function under review:\n```swift\nfunc total(_ items: [Item]) -> Decimal { items.reduce(0) { $0 + $1.price * Decimal($1.quantity) } }\n```\n",
            "Version 2.4.1 was released on 2024-03-05; ticket #48213 tracks the regression in the billing module. ",
        ]
        return (0..<count).map { _ in
            var text = ""
            while text.utf8.count < 1_000 {
                if rng.below(6) == 0 {
                    text += corpus.document().text.split(separator: "\n").first.map(String.init) ?? ""
                    text += " "
                } else {
                    text += prose[rng.below(prose.count)]
                }
            }
            return text
        }
    }

    /// This thread's CPU time and the wall time of `body`, in seconds.
    static func measure(_ body: () -> Void) -> (cpu: Double, wall: Double) {
        func cpuNow() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        let wall0 = Date(), cpu0 = cpuNow()
        body()
        return (cpuNow() - cpu0, Date().timeIntervalSince(wall0))
    }

    @Test("MB/s of the detectors over realistic prompts, and over the PII-dense corpus")
    func throughput() {
        let scanner = PIIScanner()
        var corpus = LabelledCorpus(seed: 9)
        let dense = corpus.documents(4_000).map(\.text)
        for (name, texts) in [("realistic prompts", Self.realisticPrompts(count: 2_000, seed: 7)), ("labelled corpus", dense)] {
            let bytes = texts.reduce(0) { $0 + $1.utf8.count }
            var output = 0
            var best = (cpu: Double.infinity, wall: Double.infinity)
            for _ in 0..<5 {
                output = 0
                let t = Self.measure {
                    for text in texts {
                        var redaction = Redaction(policy: RedactionPolicy(scanner: scanner))
                        output += redaction.redact(text).utf8.count
                    }
                }
                best = (min(best.cpu, t.cpu), min(best.wall, t.wall))
            }
            print("redaction \(name): \(bytes) bytes, best of 5: \(String(format: "%.1f", Double(bytes) / best.cpu / 1e6)) MB/s CPU (\(String(format: "%.1f", Double(bytes) / best.wall / 1e6)) MB/s wall), output \(output) bytes")
        }
    }

    @Test("µs added to one 1 KB prompt: the whole request redacted and flagged")
    func perPrompt() {
        let redactor = JobRedactor(defaultPolicy: RedactionPolicy())
        let requests: [JSONValue] = Self.realisticPrompts(count: 1_000, seed: 11).map { text in
            let prompt = String(decoding: Array(text.utf8).prefix(1_024), as: UTF8.self)
            return ["model": "demo", "messages": [["role": "system", "content": "You are a helpful assistant."], ["role": "user", "content": .string(prompt)]]]
        }
        var best = (cpu: Double.infinity, wall: Double.infinity)
        var sink = 0
        for _ in 0..<5 {
            let t = Self.measure {
                for request in requests { sink += redactor.redact(request, tenant: "t").counts.count }
            }
            best = (min(best.cpu, t.cpu), min(best.wall, t.wall))
        }
        let n = Double(requests.count)
        print("redaction per 1 KB prompt (JobRedactor: walk, detectors, injection flags), best of 5: \(String(format: "%.2f", best.cpu / n * 1e6)) µs CPU (\(String(format: "%.2f", best.wall / n * 1e6)) µs wall; \(sink) types found)")
    }
}
