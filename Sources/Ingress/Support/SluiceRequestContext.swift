import Hummingbird
import Logging

/// The request context of every Sluice route: Hummingbird's core storage plus who is calling.
///
/// ``AuthMiddleware`` fills ``principal`` on the route groups that need a key, so handlers never
/// read the `Authorization` header themselves; ``BodyLimitMiddleware`` sets the upload limit
/// that Hummingbird's own body collection (`collectBody(upTo: context.maxUploadSize)`) enforces.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller; nil on routes without authentication.
    var principal: Principal?
    /// `ingress.max_body_bytes`, set per request by ``BodyLimitMiddleware``.
    var uploadLimit: Int = 1 << 20

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { uploadLimit }

    /// The caller, or the 401 to answer (a route registered without ``AuthMiddleware`` is a
    /// wiring bug, answered like a missing key rather than trusted).
    func caller() throws(APIError) -> Principal {
        guard let principal else { throw .missingKey }
        return principal
    }
}

/// Sets the context's upload limit from the configuration.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.uploadLimit = limit
        return try await next(request, context)
    }
}

/// Authenticates the bearer key of every request in the group it is added to and puts the
/// principal on the context; a missing, unknown, revoked or expired key is a 401 before any
/// handler runs.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let keys: KeyRing

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.principal = try keys.authenticate(request.headers[.authorization])
        return try await next(request, context)
    }
}
