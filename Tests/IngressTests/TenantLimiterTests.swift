import Foundation
import HTTPTypes
@testable import Ingress
import SluiceCore
import Testing

/// The limiter's arithmetic on its own (no ledger: only what this process reserved counts).
@Suite("Tenant limiter")
struct TenantLimiterTests {
    @Test("jobs in flight: the limit refuses with 429, a released reservation frees its slot")
    func inFlight() async throws {
        let limiter = TenantLimiter(directory: nil)
        let limits = TenantLimits(maxInFlight: 2)
        let first = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 10, nowMs: 1_000)
        _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 10, nowMs: 1_001)
        await #expect(throws: APIError.self) { _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 10, nowMs: 1_002) }
        do {
            _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 10, nowMs: 1_003)
        } catch {
            #expect(error.status == .tooManyRequests && error.code == "too_many_jobs_in_flight" && error.retryAfterSeconds == 1)
        }
        // Another tenant has its own count.
        _ = try await limiter.admit(tenant: "globex", limits: limits, estimatedTokens: 10, nowMs: 1_004)
        limiter.release(first)
        _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 10, nowMs: 1_005)
    }

    @Test("tokens per day: a job that would pass the day's limit is refused until the next UTC day")
    func tokensPerDay() async throws {
        let limiter = TenantLimiter(directory: nil)
        let limits = TenantLimits(tokensPerDay: 1_000)
        let noon: Int64 = 1_764_763_200_000  // 2025-12-03T12:00:00Z
        _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 600, nowMs: noon)
        do {
            _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 600, nowMs: noon + 1)
            Issue.record("admitted past the daily limit")
        } catch {
            #expect(error.code == "daily_token_limit")
            #expect(error.retryAfterSeconds == 43_200)
        }
        // A smaller job still fits; the next day starts from zero.
        _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 400, nowMs: noon + 2)
        _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 1_000, nowMs: noon + 43_200_000)
    }

    @Test("requests per second: the bucket holds `burst`, refills at the rate, and says how long to wait")
    func bucket() async throws {
        let limiter = TenantLimiter(directory: nil)
        let limits = TenantLimits(requestsPerSecond: 0.5, burst: 2)
        for i in 0..<2 { _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 0, nowMs: 10_000 + Int64(i)) }
        do {
            _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 0, nowMs: 10_002)
            Issue.record("admitted past the burst")
        } catch {
            #expect(error.code == "rate_limited" && error.retryAfterSeconds == 2)
        }
        // Two seconds later one token has come back, and only one.
        _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 0, nowMs: 12_002)
        await #expect(throws: APIError.self) { _ = try await limiter.admit(tenant: "acme", limits: limits, estimatedTokens: 0, nowMs: 12_003) }
    }

    @Test("limits and sub-keys out of range are configuration problems naming the key")
    func configurationProblems() {
        var configuration = SluiceConfiguration()
        configuration.tenants = [
            TenantConfiguration(
                id: "acme", keys: [], limits: TenantLimits(requestsPerSecond: .infinity, burst: 0, maxInFlight: -1), subKeys: 0),
            TenantConfiguration(id: "bad#id", keys: []),
        ]
        configuration.ingress.maxJSONDepth = 1
        let problems = configuration.problems().joined(separator: "\n")
        for key in [
            "tenants[acme].limits.requests_per_second", "tenants[acme].limits.burst", "tenants[acme].limits.max_in_flight",
            "tenants[acme].sub_keys", "tenants[bad#id].id", "ingress.max_json_depth",
        ] {
            #expect(problems.contains(key), "\(key) in \(problems)")
        }
    }

    @Test("a generated key verifies against its salted hash only; its id is its public part")
    func keyFormat() {
        let made = APIKeyFormat.generate(tenant: "acme", role: "submitter", nowMs: 1)
        #expect(made.key.hasPrefix("sk-sluice-") && made.key.utf8.count == 58)
        #expect(APIKeyFormat.keyID(of: made.key) == made.stored.keyID)
        #expect(APIKeyFormat.matches(made.key, salt: made.stored.salt, hash: made.stored.hash))
        var wrong = made.key
        wrong.removeLast()
        wrong += made.key.hasSuffix("a") ? "b" : "a"
        #expect(!APIKeyFormat.matches(wrong, salt: made.stored.salt, hash: made.stored.hash))
        #expect(APIKeyFormat.keyID(of: "sk-sluice-test-acme") == nil)
        #expect(made.stored.hash != Array(made.key.utf8))
    }
}
