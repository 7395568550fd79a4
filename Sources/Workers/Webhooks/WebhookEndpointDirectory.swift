import SluiceCore

/// An endpoint that receives a tenant's events.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var url: String
    /// Signing secrets, all used during a rotation.
    public var secrets: [WebhookSecret]
    /// Event types it receives; empty means all.
    public var events: Set<String>
    public var disabled: Bool

    public init(id: String, tenant: String, url: String, secrets: [WebhookSecret], events: Set<String> = [], disabled: Bool = false) {
        self.id = id
        self.tenant = tenant
        self.url = url
        self.secrets = secrets
        self.events = events
        self.disabled = disabled
    }

    public func receives(_ type: String) -> Bool { events.isEmpty || events.contains(type) }
}

/// Where the webhook workers learn a tenant's endpoints and signing secrets: the configuration,
/// plus the endpoints registered over HTTP (kept in the ledger; the executable wires that in).
public protocol WebhookEndpointDirectory: Sendable {
    /// The tenant's endpoints, disabled ones included.
    func endpoints(tenant: String) async throws -> [WebhookEndpoint]
}

/// The endpoints and secrets of `webhooks.tenants`, and optionally another directory's.
public struct ConfiguredWebhookEndpoints: WebhookEndpointDirectory {
    private let byTenant: [String: [WebhookEndpoint]]
    private let secrets: [String: [WebhookSecret]]
    private let registered: (any WebhookEndpointDirectory)?

    public init(configuration: WebhooksConfiguration, registered: (any WebhookEndpointDirectory)? = nil) {
        var byTenant: [String: [WebhookEndpoint]] = [:]
        var secrets: [String: [WebhookSecret]] = [:]
        for (tenant, t) in configuration.tenants {
            let own = t.secrets.compactMap(WebhookSecret.init)
            secrets[tenant] = own
            byTenant[tenant] = t.endpoints.map { e in
                WebhookEndpoint(
                    id: "cfg_" + DerivedID.make("endpoint", tenant, e.url).prefix(16), tenant: tenant, url: e.url,
                    secrets: e.secret.flatMap(WebhookSecret.init).map { [$0] } ?? own, events: Set(e.events))
            }
        }
        self.byTenant = byTenant
        self.secrets = secrets
        self.registered = registered
    }

    public func endpoints(tenant: String) async throws -> [WebhookEndpoint] {
        let configured = byTenant[tenant] ?? []
        guard let registered else { return configured }
        return configured + (try await registered.endpoints(tenant: tenant))
    }

    /// The secrets that sign callbacks to URLs a tenant's jobs and batches name.
    public func tenantSecrets(_ tenant: String) -> [WebhookSecret] { secrets[tenant] ?? [] }
}
