import ArgumentParser
import Foundation
import Ingress
import Kafka
import Ledger
import SluiceCore

/// API keys in the ledger database: only a salted hash is stored; the key is printed once.
/// A revocation or expiry is written to the ledger and then announced on `sluice.control`, which
/// every ingress follows, so the key stops working everywhere as soon as the event arrives; an
/// ingress that misses it (no broker reachable from here) re-reads the table within
/// `ingress.tenancy_refresh_ms`. Keys in the config file keep working beside these.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self, Expire.self])

    /// The ledger file, created and migrated when it does not exist yet (a key can be made
    /// before the first start).
    static func store(_ options: CommonOptions) throws -> LedgerStore {
        let wiring = try options.wiring("sluice.keys")
        return try LedgerStore(path: wiring.configuration.ledger.path)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an API key and print it (once).")

        @OptionGroup var options: CommonOptions

        @Option(name: .long, help: "Tenant id.")
        var tenant: String

        @Option(name: .long, help: "submitter, auditor or admin.")
        var role: String = "submitter"

        @Option(name: .long, help: "When the key stops working: Unix milliseconds, an RFC 3339 date-time, or a duration such as 30d, 12h, 90m.")
        var expires: String?

        @Option(name: .long, parsing: .upToNextOption, help: "Tenants an auditor key may read (repeatable).")
        var grant: [String] = []

        func validate() throws {
            guard ["submitter", "auditor", "admin"].contains(role) else {
                throw ValidationError("--role must be submitter, auditor or admin")
            }
            guard TenantID.isValid(tenant) else { throw ValidationError("--tenant must be 1 to 64 letters, digits, '-', '_' or '.'") }
            for id in grant where !TenantID.isValid(id) { throw ValidationError("--grant '\(id)' is not a tenant id") }
        }

        func run() async throws {
            let nowMs = WallClock.system.nowMs()
            let expiresAtMs = try expires.map { try KeysCommand.time($0, nowMs: nowMs, option: "--expires") }
            let store = try KeysCommand.store(options)
            let made = APIKeyFormat.generate(tenant: tenant, role: role, nowMs: nowMs, expiresAtMs: expiresAtMs, grants: grant)
            try await store.insertKey(made.stored)
            print(made.key)
            FileHandle.standardError.write(Data("key id \(made.stored.keyID) for tenant \(tenant) (\(role)); the key is not shown again\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, never the keys).")

        @OptionGroup var options: CommonOptions

        @Option(name: .long, help: "Only this tenant's keys.")
        var tenant: String?

        func run() async throws {
            let nowMs = WallClock.system.nowMs()
            let keys = try await KeysCommand.store(options).tenancy().keys.filter { tenant == nil || $0.tenant == tenant }
            print("key_id            tenant              role       state    expires_at_ms   grants")
            for key in keys {
                let state = key.revokedAtMs.map { $0 <= nowMs } == true ? "revoked" : key.isUsable(nowMs: nowMs) ? "active" : "expired"
                let expires = key.expiresAtMs.map(String.init) ?? "-"
                let line = [
                    key.keyID.padding(toLength: 17, withPad: " ", startingAt: 0),
                    key.tenant.padding(toLength: 19, withPad: " ", startingAt: 0), key.role.padding(toLength: 10, withPad: " ", startingAt: 0),
                    state.padding(toLength: 8, withPad: " ", startingAt: 0), expires.padding(toLength: 15, withPad: " ", startingAt: 0),
                    key.grants.joined(separator: ","),
                ]
                print(line.joined(separator: " "))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key now.")

        @OptionGroup var options: CommonOptions

        @Argument(help: "The key id (from 'sluice keys list').")
        var keyID: String

        func run() async throws {
            let nowMs = WallClock.system.nowMs()
            let store = try KeysCommand.store(options)
            guard try await store.revokeKey(keyID: keyID, atMs: nowMs) else {
                throw ValidationError("no key with id '\(keyID)'")
            }
            print("revoked \(keyID)")
            let tenant = try await store.tenancy().keys.first { $0.keyID == keyID }?.tenant ?? ""
            await KeysCommand.announce(options) { ControlEvent.keyRevoked(keyID: keyID, tenant: tenant, atMs: nowMs, actor: $0) }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set when a key stops working (default: now).")

        @OptionGroup var options: CommonOptions

        @Argument(help: "The key id (from 'sluice keys list').")
        var keyID: String

        @Option(name: .long, help: "Unix milliseconds, an RFC 3339 date-time, or a duration from now such as 7d.")
        var at: String?

        func run() async throws {
            let nowMs = WallClock.system.nowMs()
            let atMs = try at.map { try KeysCommand.time($0, nowMs: nowMs, option: "--at") } ?? nowMs
            let store = try KeysCommand.store(options)
            guard try await store.expireKey(keyID: keyID, atMs: atMs) else {
                throw ValidationError("no key with id '\(keyID)'")
            }
            print("\(keyID) expires at \(atMs)")
            let tenant = try await store.tenancy().keys.first { $0.keyID == keyID }?.tenant ?? ""
            await KeysCommand.announce(options) {
                ControlEvent.keyExpires(keyID: keyID, tenant: tenant, atMs: atMs, requestedAtMs: nowMs, actor: $0)
            }
        }
    }

    /// Publishes the control event `make` builds (given the actor) on `sluice.control`. The
    /// change is in the ledger already, so a broker that cannot be reached only delays it: a
    /// warning says so, and the command still succeeds.
    static func announce(_ options: CommonOptions, _ make: (String) -> ControlEvent) async {
        let event = make("cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")@\(Wiring.instance)")
        do {
            let wiring = try options.wiring("sluice.keys")
            try KafkaLibrary.requireSupportedVersion()
            // No client waits on this answer: a slow broker gets longer than the ingress's
            // produce timeout, and a second try.
            let producer = try wiring.producer(messageTimeoutMs: max(wiring.configuration.ingress.produceTimeoutMs, 15_000))
            let enqueuer = JobEnqueuer(producer: producer, topics: wiring.topics, actor: event.actor)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await producer.run() }
                defer { group.cancelAll() }
                try await enqueuer.announce(event, attempts: 2)
            }
            FileHandle.standardError.write(Data("announced on \(wiring.topics.control): every ingress applies it now\n".utf8))
        } catch {
            FileHandle.standardError.write(
                Data("warning: not announced on the control topic (\(error)); ingresses apply it at their next re-read of the tables (ingress.tenancy_refresh_ms)\n".utf8))
        }
    }

    /// Unix ms, RFC 3339, or `<n>d|h|m|s` from now; range-checked.
    static func time(_ text: String, nowMs: Int64, option: String) throws -> Int64 {
        let units: [Character: Int64] = ["d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000]
        if let unit = text.last.flatMap({ units[$0] }), let n = Int64(text.dropLast()), (0...36_500 * 86_400).contains(n) {
            let (delta, overflow) = n.multipliedReportingOverflow(by: unit)
            guard !overflow else { throw ValidationError("\(option) is too far ahead") }
            return nowMs + delta
        }
        if let ms = Int64(text), Wire.timestampRangeMs.contains(ms) { return ms }
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: text), let ms = Int64(exactly: (date.timeIntervalSince1970 * 1_000).rounded()),
            Wire.timestampRangeMs.contains(ms)
        else {
            throw ValidationError("\(option) must be Unix milliseconds, an RFC 3339 date-time or a duration such as 30d")
        }
        return ms
    }
}

/// Tenant policies in the ledger database, laid over the config file's; every ingress re-reads
/// them when the change is announced on `sluice.control`, and at the latest within
/// `ingress.tenancy_refresh_ms`.
struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants", abstract: "Set tenants' limits and policy at runtime.", subcommands: [Set_.self])

    struct Set_: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a tenant's limits or policy (unnamed settings stay).")

        @OptionGroup var options: CommonOptions

        @Argument(help: "Tenant id.")
        var tenant: String

        @Option(name: .long) var requestsPerSecond: Double?
        @Option(name: .long) var burst: Int?
        @Option(name: .long) var maxInFlight: Int?
        @Option(name: .long) var tokensPerDay: Int?
        @Option(name: .long) var monthlyBudget: Double?
        @Option(name: .long, help: "true or false.") var allowP0: Bool?
        @Option(name: .long) var subKeys: Int?

        func validate() throws {
            guard TenantID.isValid(tenant) else { throw ValidationError("tenant must be 1 to 64 letters, digits, '-', '_' or '.'") }
            let problems = limits.problems(key: "--") + (subKeys.map { TenantPolicy.subKeysRange.contains($0) } == false ? ["--sub_keys must be between 1 and 1024"] : [])
            if let first = problems.first { throw ValidationError(first.replacingOccurrences(of: "--.", with: "--").replacingOccurrences(of: "_", with: "-")) }
        }

        var limits: TenantLimits {
            TenantLimits(
                requestsPerSecond: requestsPerSecond, burst: burst, maxInFlight: maxInFlight, tokensPerDay: tokensPerDay,
                monthlyBudget: monthlyBudget)
        }

        func run() async throws {
            let store = try KeysCommand.store(options)
            let nowMs = WallClock.system.nowMs()
            try await store.upsertTenant(StoredTenant(id: tenant, allowP0: allowP0, subKeys: subKeys, limits: limits, updatedAtMs: nowMs))
            print("tenant \(tenant) updated")
            await KeysCommand.announce(options) { ControlEvent.tenantChanged(tenant: tenant, requestedAtMs: nowMs, actor: $0) }
        }
    }
}
