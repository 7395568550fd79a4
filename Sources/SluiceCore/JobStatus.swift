/// Where a job is in its life, as `GET /v1/jobs/{id}` reports it.
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, retrying, succeeded, failed, cancelled

    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .queued, .running, .retrying: false
        }
    }
}
