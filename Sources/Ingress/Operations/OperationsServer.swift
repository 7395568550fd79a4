import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import SluiceCore

/// `/healthz`, `/readyz` and `/metrics` on a port of their own, for the roles without the HTTP
/// API (`sluice worker`, `sluice ledger`, `sluice webhooks`), so that Prometheus and a
/// supervisor's probes reach every process. Answers exactly what the API's routes of the same
/// names answer.
public struct OperationsServer: Service {
    private let host: String
    let port: Int
    private let operations: IngressOperations
    private let logger: Logger

    public init(host: String, port: Int, operations: IngressOperations, logger: Logger) {
        self.host = host
        self.port = port
        self.operations = operations
        self.logger = logger
    }

    public func run() async throws {
        let app = Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "sluice-operations"),
            logger: logger)
        try await app.run()
    }

    public func buildRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let operations = self.operations
        router.get("/healthz") { _, _ in
            IngressService.json(.ok, ["status": "ok"] as JSONValue)
        }
        router.get("/readyz") { _, _ in
            let outcomes = await operations.readiness.evaluate()
            let status: HTTPResponse.Status = outcomes.allSatisfy(\.passed) ? .ok : .serviceUnavailable
            return IngressService.json(status, IngressOperations.readinessBody(outcomes))
        }
        if let metrics = operations.metrics {
            router.get("/metrics") { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: await metrics())))
            }
        }
        return router
    }
}
