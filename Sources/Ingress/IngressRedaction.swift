import Foundation
import Logging
import Redaction
import SluiceCore

/// PII redaction at the ingress: every text a provider would read is redacted after validation
/// and before the job is queued, so no original value reaches Kafka.
///
/// The `job.accepted` audit event records what was found (kinds and counts) and the
/// prompt-injection flags, never a value. Tokenized values travel sealed (AES-GCM, bound to
/// the job id) in that event's `token_vault`, because the ledger is rebuilt from the topics
/// and must keep the mapping; only an ingress holding the key opens it, to restore the
/// values in the job's result before answering its owner.
public struct IngressRedaction: Sendable {
    let redactor: JobRedactor
    let vault: TokenVault?
    let logger: Logger

    /// - Parameter vault: the tokenization key; required when a policy tokenizes.
    public init(redactor: JobRedactor, vault: TokenVault?, logger: Logger) {
        self.redactor = redactor
        self.vault = vault
        self.logger = logger
    }

    /// A job's request after redaction, and what the audit event records of it.
    struct Redacted {
        var request: JSONValue
        var outcome: JobRedactor.Outcome
    }

    /// Redacts `request` under `tenant`'s policy.
    ///
    /// - Throws: `APIError` 400 naming the field when the tenant blocks prompt-injection flags
    ///   and one was raised.
    func redact(_ request: JSONValue, tenant: String) throws(APIError) -> Redacted {
        let outcome = redactor.redact(request, tenant: tenant)
        if redactor.policy(tenant: tenant).blockInjection, let first = outcome.flags.first {
            throw .invalidRequest(
                "'\(first.field)' was flagged as a prompt-injection attempt (\(first.flag)), and this tenant's policy refuses such jobs.",
                param: first.field, code: "prompt_injection_blocked")
        }
        return Redacted(request: outcome.request, outcome: outcome)
    }

    /// The `job.accepted` detail: counts, flags and, for tokenized values, the sealed mapping.
    func auditDetail(_ redacted: Redacted, jobID: String) throws -> [String: JSONValue] {
        var detail = redacted.outcome.auditDetail
        if !redacted.outcome.vault.isEmpty {
            guard let vault else { throw RedactionError("tokenize is configured without a key") }
            detail["token_vault"] = .string(Data(try vault.seal(redacted.outcome.vault, jobID: jobID)).base64EncodedString())
        }
        return detail
    }

    /// `view` with tokenized values restored in its result, for the job's own tenant.
    ///
    /// A mapping that cannot be read (no key here, purged, another key) leaves the tokens in
    /// place and is logged: the caller still gets its result, as the provider saw it.
    func restore(_ view: JobView, audit: (any AuditReader)?) async -> JobView {
        guard let vault, let result = view.result, let audit else { return view }
        var query = AuditQuery(tenants: [view.tenant], limit: 10)
        query.jobID = view.id
        query.type = AuditEventType.accepted.rawValue
        do {
            let page = try await audit.auditEvents(query)
            guard let sealed = page.events.lazy.compactMap({ $0.event.detail?["token_vault"]?.stringValue }).first else { return view }
            guard let bytes = Data(base64Encoded: sealed) else { throw RedactionError("token_vault is not base64") }
            let mapping = try vault.open(Array(bytes), jobID: view.id)
            var restored = view
            restored.result = TokenVault.restore(result, mapping: mapping)
            return restored
        } catch {
            logger.warning("tokenized values not restored", metadata: ["job_id": "\(view.id)", "error": "\(error)"])
            return view
        }
    }
}
