import ArgumentParser
import Foundation
import Ingress
import Kafka
import Ledger
import SluiceCore

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Operate on jobs the ledger knows.", subcommands: [Requeue.self])

    /// Re-enqueues, from the ledger, accepted jobs that have no result.
    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue again every accepted job without a result (same job id), e.g. after the dev broker restarted empty.",
            discussion: """
                The ledger keeps each job's request until its result arrives. A job still queued on \
                the broker runs again only if a worker picks up both copies; the ledger keeps one \
                result and one set of audit events for it either way.
                """)

        @OptionGroup var options: CommonOptions

        @Flag(name: .long, help: "Requeue every accepted job that has no result (required).")
        var unfinished = false

        @Option(name: .long, help: "Only this tenant's jobs.")
        var tenant: String?

        @Option(name: .long, help: "Only jobs accepted at or after this time: ISO 8601 (2026-12-03T14:00:00Z) or Unix milliseconds.")
        var since: String?

        @Flag(name: .long, help: "List what would be requeued; change nothing.")
        var dryRun = false

        func validate() throws {
            guard unfinished else { throw ValidationError("give --unfinished (the only selection so far)") }
            if let since { _ = try Self.parseSince(since) }
        }

        /// `--since` as Unix ms: an ISO 8601 instant, or a whole number of milliseconds in a
        /// sane range (1970 … 9999).
        static func parseSince(_ text: String) throws -> Int64 {
            if let ms = Int64(text) {
                guard (0...253_402_300_799_999).contains(ms) else {
                    throw ValidationError("--since milliseconds must be between 0 and 253402300799999, got \(text)")
                }
                return ms
            }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            var date = formatter.date(from: text)
            if date == nil {
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                date = formatter.date(from: text)
            }
            guard let date, let ms = Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded()) else {
                throw ValidationError("--since must be ISO 8601 (2026-12-03T14:00:00Z) or Unix milliseconds, got '\(text)'")
            }
            return ms
        }

        func run() async throws {
            let wiring = try options.wiring("sluice.jobs")
            let sinceMs = try since.map(Self.parseSince)
            let store = try wiring.ledgerStore(readOnly: true)
            let jobs = try store.unfinishedJobs(tenant: tenant, sinceMs: sinceMs)
            let requeueable = jobs.compactMap(\.envelope)
            let missing = jobs.filter { $0.envelope == nil }
            for job in missing {
                print("cannot requeue \(job.id) (tenant \(job.tenant)): the ledger holds no request for it")
            }
            let summary = "unfinished jobs: \(jobs.count) (requeueable: \(requeueable.count), without a stored request: \(missing.count))"
            if dryRun {
                for job in requeueable { print("would requeue \(job.id)  tenant=\(job.tenant)  model=\(job.model)  priority=\(job.priority.rawValue)") }
                print(summary)
                return
            }
            guard !requeueable.isEmpty else {
                print(summary)
                return
            }
            try KafkaLibrary.requireSupportedVersion()
            let producer = try wiring.producer()
            let enqueuer = JobEnqueuer(producer: producer, topics: wiring.topics, actor: "cli:\(Wiring.instance)")
            let failed = await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask {
                    try await producer.run()
                    return nil
                }
                defer { group.cancelAll() }
                var failures = 0
                for job in requeueable {
                    do {
                        try await enqueuer.requeue(job)
                        print("requeued \(job.id)")
                    } catch {
                        failures += 1
                        print("failed   \(job.id): \(error)")
                    }
                }
                return failures
            }
            print(summary)
            print("\(requeueable.count - failed) requeued, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
