import HTTPTypes
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

/// Authenticates the key of every request in the group it is added to and puts the principal
/// on the context; a missing, unknown, revoked or expired key is a 401 before any handler runs.
///
/// Keys come as `Authorization: Bearer sk-sluice-…`. A group that serves an Anthropic-shaped
/// front door also takes Anthropic's `x-api-key: sk-sluice-…` (what the Anthropic SDKs send),
/// so those SDKs work with only `base_url` changed; `Authorization` wins when both are sent.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let keys: KeyRing
    /// Whether `x-api-key` is read when there is no `Authorization` header. Default: false.
    let acceptsAPIKeyHeader: Bool

    init(keys: KeyRing, acceptsAPIKeyHeader: Bool = false) {
        self.keys = keys
        self.acceptsAPIKeyHeader = acceptsAPIKeyHeader
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        // A Result rather than `catch where error == …`: that pattern on a typed throw crashes
        // the Swift 6.3.1 compiler (SILGen ownership verification).
        switch Result(catching: { () throws(APIError) in try keys.authenticate(credential(request.headers)) }) {
        case .success(let principal):
            context.principal = principal
        case .failure(let error):
            throw acceptsAPIKeyHeader && error.code == APIError.missingKey.code ? APIError.missingKeyOrAPIKeyHeader : error
        }
        return try await next(request, context)
    }

    /// The `Authorization` value to authenticate: the header itself, or `x-api-key` as a
    /// bearer key where that is accepted.
    func credential(_ headers: HTTPFields) -> String? {
        if let authorization = headers[.authorization], !authorization.isEmpty { return authorization }
        if acceptsAPIKeyHeader, let key = headers[.xAPIKey], !key.isEmpty { return "Bearer \(key)" }
        return nil
    }
}

extension SluiceRequestContext {
    /// The caller, who must be allowed to submit and change things (a submitter or an admin);
    /// an auditor is a 403 that says what it may not do.
    ///
    /// - Parameter action: completes "Role 'auditor' may not …" (`"submit batches"`).
    func submitter(mayNot action: String) throws(APIError) -> Principal {
        let principal = try caller()
        guard principal.role.maySubmit else { throw .forbidden("Role '\(principal.role)' may not \(action).") }
        return principal
    }
}

extension HTTPField.Name {
    /// Anthropic's API key header.
    static let xAPIKey = HTTPField.Name("x-api-key")!
}
