import Kafka
import Testing

@testable import Redaction

/// Precision and recall of every detector on a seeded, labelled corpus (``LabelledCorpus``),
/// and hard negatives left alone.
///
/// A found span counts only when its start, end and type are exactly the labelled ones. The
/// table is printed for BENCHMARKS.md ("Redaction").
@Suite("Corpus quality")
struct CorpusQualityTests {
    struct Score {
        var truePositives = 0
        var falsePositives = 0
        var falseNegatives = 0
        var precision: Double { truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives) }
        var recall: Double { truePositives + falseNegatives == 0 ? 1 : Double(truePositives) / Double(truePositives + falseNegatives) }
    }

    static func evaluate(seed: UInt64, documents: Int) -> (scores: [PIIType: Score], touchedNegatives: [String], negatives: Int) {
        var corpus = LabelledCorpus(seed: seed)
        let scanner = PIIScanner()
        var scores: [PIIType: Score] = [:]
        var touched: [String] = []
        var negatives = 0
        for document in corpus.documents(documents) {
            let found = Set(scanner.scalarSpans(in: document.text))
            let scalars = Array(document.text.unicodeScalars)
            func excerpt(_ start: Int, _ end: Int) -> String { String(String.UnicodeScalarView(scalars[max(0, start)..<min(scalars.count, end)])) }
            var expected = Set<PIIScanner.ScalarSpan>()
            for span in document.spans {
                if let type = span.type {
                    expected.insert(.init(start: span.start, end: span.end, type: type))
                } else {
                    negatives += 1
                    for f in found where f.start < span.end && span.start < f.end {
                        touched.append("\(f.type) in '\(excerpt(span.start, span.end))'")
                    }
                }
            }
            for span in found {
                if expected.contains(span) { scores[span.type, default: .init()].truePositives += 1 } else {
                    scores[span.type, default: .init()].falsePositives += 1
                    if touched.count < 50 { touched.append("FP \(span.type) '\(excerpt(span.start, span.end))' in «\(excerpt(span.start - 20, span.end + 20))»") }
                }
            }
            for span in expected where !found.contains(span) {
                scores[span.type, default: .init()].falseNegatives += 1
                let near = found.filter { $0.start < span.end && span.start < $0.end }.map { "\($0.type) '\(excerpt($0.start, $0.end))'" }
                touched.append("FN \(span.type) '\(excerpt(span.start, span.end))' found: \(near)")
            }
        }
        return (scores, touched, negatives)
    }

    @Test("every detector reaches precision and recall of 0.98, and hard negatives are left alone")
    func qualityBar() async {
        // Long CPU work on a thread of its own, not one of the concurrency pool's (two on a
        // 2-core machine), which every other test running meanwhile needs.
        let (scores, problems, negatives) = await DedicatedThread.run(name: "corpus-quality") {
            Self.evaluate(seed: 0x5EED_2026, documents: 2_000)
        }
        var table = "| type | labelled | found | precision | recall |\n|---|---:|---:|---:|---:|\n"
        for type in PIIType.builtIn {
            let s = scores[type] ?? .init()
            table += "| \(type) | \(s.truePositives + s.falseNegatives) | \(s.truePositives + s.falsePositives) | \(String(rounded: s.precision)) | \(String(rounded: s.recall)) |\n"
        }
        print("Redaction corpus (seed 0x5EED2026, 2000 documents, \(negatives) hard negatives):\n" + table)
        for type in PIIType.builtIn {
            let s = scores[type] ?? .init()
            #expect(s.truePositives >= 100, "\(type): too few labelled values to judge")
            #expect(s.precision >= 0.98, "\(type) precision \(s.precision)")
            #expect(s.recall >= 0.98, "\(type) recall \(s.recall)")
        }
        #expect(negatives >= 1_000)
        let touchedNegatives = problems.filter { !$0.hasPrefix("FP") && !$0.hasPrefix("FN") }
        #expect(touchedNegatives.isEmpty, "\(touchedNegatives.prefix(20))")
        if !problems.isEmpty { print(problems.prefix(40).joined(separator: "\n")) }
    }
}

extension String {
    init(rounded value: Double) {
        let rounded = (value * 1000).rounded() / 1000
        self = "\(rounded)"
    }
}
