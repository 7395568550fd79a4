import SluiceCore
import Testing

@testable import Ledger

@Suite("JobProgress")
struct JobProgressTests {
    private func progress(_ status: JobStatus, _ attempt: Int, _ atMs: Int64 = 0) -> JobProgress {
        JobProgress(status: status, attempt: attempt, atMs: atMs)
    }

    @Test("terminal statuses are final and beat everything else")
    func terminal() {
        #expect(!progress(.succeeded, 1).isSuperseded(by: progress(.running, 5)))
        #expect(!progress(.cancelled, 1).isSuperseded(by: progress(.failed, 2)))
        #expect(progress(.running, 3).isSuperseded(by: progress(.failed, 1)))
    }

    @Test("higher attempt wins, then work beats queued, then the later of running and retrying")
    func nonTerminal() {
        #expect(progress(.retrying, 1).isSuperseded(by: progress(.running, 2)))
        #expect(!progress(.running, 2).isSuperseded(by: progress(.retrying, 1, 99)))
        #expect(progress(.queued, 1).isSuperseded(by: progress(.running, 1)))
        #expect(!progress(.running, 1).isSuperseded(by: progress(.queued, 1, 99)))
        #expect(progress(.running, 1, 10).isSuperseded(by: progress(.retrying, 1, 20)))
        #expect(!progress(.retrying, 1, 20).isSuperseded(by: progress(.running, 1, 10)))
        #expect(!progress(.queued, 1, 10).isSuperseded(by: progress(.queued, 1, 20)))
    }
}
