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
                The ledger keeps each job's request until its result arrives. Before queueing, the \
                job and retry topics are read from the oldest selected job's time: a job whose record \
                is still there (queued, running or waiting to be retried) is left alone, so nothing \
                runs twice. --even-if-queued skips that check (a job found twice on the broker may \
                then run twice; the ledger keeps one result either way).
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

        @Flag(name: .long, help: "Do not read the topics for jobs still on the broker; queue every selected job again.")
        var evenIfQueued = false

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
            let stored = jobs.compactMap(\.envelope)
            let missing = jobs.filter { $0.envelope == nil }
            for job in missing {
                print("cannot requeue \(job.id) (tenant \(job.tenant)): the ledger holds no request for it")
            }
            var summary = "unfinished jobs: \(jobs.count) (requeueable: \(stored.count), without a stored request: \(missing.count))"
            if !stored.isEmpty { try KafkaLibrary.requireSupportedVersion() }
            var requeueable = stored
            if !evenIfQueued, !stored.isEmpty {
                let onBroker = try await Self.stillOnBroker(stored, wiring: wiring)
                for job in stored where onBroker.contains(job.id) { print("still on the broker, left alone: \(job.id)") }
                requeueable.removeAll { onBroker.contains($0.id) }
                summary += "\nstill on the broker: \(onBroker.count)"
            }
            if dryRun {
                for job in requeueable { print("would requeue \(job.id)  tenant=\(job.tenant)  model=\(job.model)  priority=\(job.priority.rawValue)") }
                print(summary)
                return
            }
            guard !requeueable.isEmpty else {
                print(summary)
                return
            }
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

        /// The ids among `jobs` with a record on a job or retry topic since the oldest of them
        /// was accepted: queued, running (uncommitted) or waiting for a retry. A job the broker
        /// still holds gets its result without help; only what the broker lost is requeued.
        static func stillOnBroker(_ jobs: [JobEnvelope], wiring: Wiring) async throws -> Set<String> {
            let ids = Set(jobs.map(\.id))
            let sinceMs = jobs.map(\.createdAtMs).min() ?? 0
            let finder = QueuedJobFinder(reader: wiring.queuedJobReader, logger: wiring.logger)
            do {
                return try await finder.queued(among: ids, topics: wiring.topics.allJobs + wiring.topics.allJobRetries, sinceMs: sinceMs)
            } catch {
                FileHandle.standardError.write(Data(
                    "cannot read the job and retry topics to check for jobs still queued (\(error)); nothing was requeued. With --even-if-queued every selected job is queued again.\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
