import ArgumentParser
import Foundation
import Kafka
import SluiceCore
import Workers

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect and replay dead jobs (sluice.jobs.dlq).", subcommands: [List.self, Replay.self])

    /// Lists DLQ records without consuming them (no consumer group, nothing committed).
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead jobs with the errors of their attempts; changes nothing.")

        @OptionGroup var options: CommonOptions

        @Option(name: .long, help: "Show at most this many records, the newest (1-100000).")
        var limit: Int = 100

        @Option(name: .long, help: "Only this tenant's jobs.")
        var tenant: String?

        @Flag(name: .long, help: "One JSON object per line.")
        var json = false

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 100000, got \(limit)") }
        }

        func run() async throws {
            let wiring = try options.wiring("sluice.dlq")
            try KafkaLibrary.requireSupportedVersion()
            let dead = try await wiring.deadLetterQueue().list(tenant: tenant, limit: limit)
            if json {
                for record in dead { print(String(decoding: record.json.serialized(), as: UTF8.self)) }
                return
            }
            if dead.isEmpty { print("The DLQ holds no\(tenant.map { " \($0)" } ?? "") jobs.") }
            for record in dead {
                let state = record.replayed ? "replayed" : "dead"
                print("\(record.jobID ?? "?")  tenant=\(record.tenant ?? "?")  \(state)  \(record.position)")
                if let job = record.job {
                    print("  model=\(job.model) priority=\(job.priority.rawValue) attempts=\(job.attempt) replay=\(job.replay)")
                    for failure in job.failures {
                        let status = failure.error.providerStatus.map { " (\($0))" } ?? ""
                        print("  attempt \(failure.attempt): \(failure.error.code ?? failure.error.type)\(status): \(failure.error.message)")
                    }
                } else {
                    print("  unreadable: \(record.decodeError ?? "")")
                }
                if let reason = record.reason { print("  reason: \(reason)") }
            }
        }
    }

    /// Puts dead jobs back on their jobs topic, once.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead jobs back on their jobs topic (attempt 1, same job id); records already replayed are skipped.")

        @OptionGroup var options: CommonOptions

        @Option(name: .long, help: "Replay this job.")
        var job: String?

        @Flag(name: .long, help: "Replay every dead job (of --tenant, if given).")
        var all = false

        @Option(name: .long, help: "Only this tenant's jobs.")
        var tenant: String?

        func validate() throws {
            guard (job != nil) != all else { throw ValidationError("give exactly one of --job ID or --all") }
            if let job, !UUIDv7.isWellFormed(job) { throw ValidationError("--job must be a job id, got '\(job)'") }
        }

        func run() async throws {
            let wiring = try options.wiring("sluice.dlq")
            try KafkaLibrary.requireSupportedVersion()
            let producer = try wiring.producer()
            let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            let report = try await withThrowingTaskGroup(of: DeadLetterQueue.ReplayReport?.self) { group in
                group.addTask {
                    try await producer.run()
                    return nil
                }
                defer { group.cancelAll() }
                return try await wiring.deadLetterQueue().replay(
                    jobID: job?.lowercased(), all: all, tenant: tenant, producer: producer, actor: "cli:\(user)@\(Wiring.instance)")
            }
            for record in report.replayed { print("replayed \(record.jobID ?? "?") from \(record.position)") }
            for (record, why) in report.skipped { print("skipped  \(record.jobID ?? "?") at \(record.position): \(why)") }
            print("\(report.replayed.count) replayed, \(report.skipped.count) skipped")
            if let job, report.replayed.isEmpty, report.skipped.isEmpty {
                throw ValidationError("job \(job) is not in the DLQ\(tenant.map { " for tenant \($0)" } ?? "")")
            }
        }
    }
}
