import SluiceCore

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
        configured(tenant: tenant) + (try await registered(tenant: tenant))
    }

    /// The tenant's endpoints from `webhooks.tenants`.
    public func configured(tenant: String) -> [WebhookEndpoint] { byTenant[tenant] ?? [] }

    /// The tenant's endpoints registered over HTTP (none without a registry).
    public func registered(tenant: String) async throws -> [WebhookEndpoint] {
        try await registered?.endpoints(tenant: tenant) ?? []
    }

    /// The secrets that sign callbacks to URLs a tenant's jobs and batches name.
    public func tenantSecrets(_ tenant: String) -> [WebhookSecret] { secrets[tenant] ?? [] }
}
