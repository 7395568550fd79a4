import Hummingbird
import Logging

/// Gives every error the API's JSON shape: router 404/405s, and anything unexpected, which
/// becomes a logged 500 without internals.
struct ErrorShapeMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw APIError(
                status: error.status, type: error.status == .notFound ? "not_found_error" : "invalid_request_error",
                code: error.status.code == 404 ? "route_not_found" : "http_\(error.status.code)",
                message: error.body ?? error.status.reasonPhrase
            )
        } catch {
            logger.error("unhandled error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(status: .internalServerError, type: "server_error", code: "internal_error", message: "Internal error.")
        }
    }
}
