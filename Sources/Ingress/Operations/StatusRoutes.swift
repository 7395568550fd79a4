import HTTPTypes
import Hummingbird
import Logging
import SluiceCore

/// The status page: `GET /` (HTML, rendered here with inline SVG charts; no script is needed
/// to see it), `GET /v1/status` (the same figures as JSON) and `POST /v1/admin/dlq/replay`
/// (admin keys only: puts every unreplayed DLQ record back on its jobs topic).
///
/// The page and its JSON show what `/metrics` shows (tenant names, counts, costs, breaker
/// states) plus the newest failures' error codes and messages; like `/metrics` they need no
/// key, so serve them only where operators can reach them (see the README's "Operations").
struct StatusRoutes: Sendable {
    let status: @Sendable () async -> JSONValue
    let replay: (@Sendable (_ actor: String) async throws -> JSONValue)?
    let keys: KeyRing
    let logger: Logger

    func register(on router: Router<SluiceRequestContext>) {
        router.get("/") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.cacheControl] = "no-store"
            let html = StatusPage.render(await status())
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("/v1/status") { _, _ in
            IngressService.json(.ok, await status())
        }
        let admin = RouteCollection(context: SluiceRequestContext.self)
        admin.add(middleware: AuthMiddleware(keys: keys))
        admin.post("replay") { _, context in try await replayDeadLetters(context) }
        router.addRoutes(admin, atPath: "/v1/admin/dlq")
    }

    private func replayDeadLetters(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        guard principal.role == .admin else { throw APIError.forbidden("Only admin keys may replay the DLQ.") }
        guard let replay else { throw APIError.notFound("route", id: "/v1/admin/dlq/replay") }
        do {
            let report = try await replay("admin:\(principal.tenant)@status-page")
            return IngressService.json(.ok, report)
        } catch let error as APIError {
            throw error
        } catch {
            logger.warning("DLQ replay from the status page failed", metadata: ["error": "\(error)"])
            // A replay marks what it put back, so a second one after a partial failure runs
            // nothing twice.
            throw APIError(
                status: .serviceUnavailable, type: "service_unavailable", code: "dlq_unavailable",
                message: "The DLQ could not be replayed now (is Kafka reachable?); what was replayed stays replayed. Retry later.",
                retryAfterSeconds: 5)
        }
    }
}
