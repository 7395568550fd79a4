import SluiceCore

/// What the operations endpoints answer from: `GET /readyz` and `GET /metrics`.
///
/// The executable fills it, since only it knows every component of the process (broker, ledger,
/// workers in `serve`) and the metrics backend.
public struct IngressOperations: Sendable {
    /// The process's readiness checks; with none, `/readyz` answers 200 once the server runs.
    public var readiness: ReadinessChecks
    /// The metrics in Prometheus text format; nil leaves `/metrics` out (404).
    public var metrics: (@Sendable () async -> [UInt8])?

    /// The status page's figures (`GET /v1/status`, rendered at `GET /`); nil leaves both out.
    public var status: (@Sendable () async -> JSONValue)?
    /// Replays every unreplayed DLQ record for an admin (`POST /v1/admin/dlq/replay`), given
    /// who asks; answers what was done. Nil: the route answers 404.
    public var replayDeadLetters: (@Sendable (_ actor: String) async throws -> JSONValue)?

    public init(
        readiness: ReadinessChecks = ReadinessChecks(), metrics: (@Sendable () async -> [UInt8])? = nil,
        status: (@Sendable () async -> JSONValue)? = nil
    ) {
        self.readiness = readiness
        self.metrics = metrics
        self.status = status
    }

    /// The `/readyz` body: `{"status": "ready"|"not_ready", "checks": [{"name", "ok", "error"?}]}`.
    static func readinessBody(_ outcomes: [ReadinessOutcome]) -> JSONValue {
        let checks: [JSONValue] = outcomes.map { outcome in
            var check: [String: JSONValue] = ["name": .string(outcome.name), "ok": .bool(outcome.passed)]
            if let failure = outcome.failure { check["error"] = .string(failure) }
            return .object(check)
        }
        let ready = outcomes.allSatisfy(\.passed)
        return .object(["status": .string(ready ? "ready" : "not_ready"), "checks": .array(checks)])
    }
}
