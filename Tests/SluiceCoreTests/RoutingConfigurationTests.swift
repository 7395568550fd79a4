import Foundation
import SluiceCore
import Testing

@Suite("Routing configuration")
struct RoutingConfigurationTests {
    private func decode(_ json: String) throws -> SluiceConfiguration {
        try JSONDecoder().decode(SluiceConfiguration.self, from: Data(json.utf8))
    }

    private let providers = #""providers":[{"name":"openai-main","base_url":"http://a/v1","limits":{"rpm":500,"tpm":200000,"max_concurrency":64}},{"name":"azure-eu","kind":"openai","base_url":"http://b/v1"},{"name":"anthropic","base_url":"http://c/v1"}]"#

    @Test("the full form: strategy, weighted deployments, per-deployment limits over the provider's, fallbacks")
    func fullForm() throws {
        let c = try decode(#"{"# + providers + #","routes":{"gpt-4o-mini":{"strategy":"least-busy","deployments":[{"provider":"openai-main","model":"gpt-4o-mini","weight":3},{"provider":"azure-eu","model":"my-dep","weight":1,"limits":{"rpm":100}}],"fallbacks":["claude-haiku"]},"claude-haiku":{"provider":"anthropic","model":"claude-3-5-haiku"}}}"#)
        #expect(c.problems().isEmpty)
        let route = try #require(c.routes["gpt-4o-mini"])
        #expect(route.strategy == "least-busy" && route.fallbacks == ["claude-haiku"])
        #expect(route.deployments.map(\.weight) == [3, 1])
        #expect(c.providers[0].limits == LimitsConfiguration(rpm: 500, tpm: 200_000, maxConcurrency: 64))
        #expect(route.deployments[1].limits?.overriding(c.providers[0].limits) == LimitsConfiguration(rpm: 100, tpm: 200_000, maxConcurrency: 64))
        let short = try #require(c.routes["claude-haiku"])
        #expect(short.strategy == "weighted" && short.deployments.count == 1 && short.deployments[0].model == "claude-3-5-haiku")
        #expect(c.workers.breaker == BreakerConfiguration())
        #expect(c.workers.jobPartitions == 18)
    }

    @Test("unknown providers, fallbacks and strategies, and fallback cycles are named")
    func references() throws {
        let c = try decode(#"{"# + providers + #","routes":{"a":{"strategy":"cheapest","deployments":[{"provider":"openai-main"},{"provider":"nope"}],"fallbacks":["b","ghost"]},"b":{"provider":"azure-eu","fallbacks":["c"]},"c":{"provider":"anthropic","fallbacks":["a"]}}}"#)
        let problems = c.problems()
        #expect(problems.contains("routes.a.strategy 'cheapest' is not one of least-busy, lowest-cost, weighted"))
        #expect(problems.contains("routes.a.deployments[1].provider 'nope' is not one of providers[].name"))
        #expect(problems.contains("routes.a.fallbacks: 'ghost' is not a configured route"))
        #expect(problems.contains("routes: fallbacks form a cycle: a -> b -> c -> a"))
    }

    @Test("a route falling back on itself is a cycle; an empty deployments list is named")
    func selfCycle() throws {
        let c = try decode(#"{"# + providers + #","routes":{"a":{"deployments":[],"fallbacks":["a"]}}}"#)
        #expect(c.problems().contains("routes: fallbacks form a cycle: a -> a"))
        #expect(c.problems().contains("routes.a.deployments must name at least one deployment"))
    }

    @Test("weights, limits and breaker settings out of range are named by key")
    func numbers() throws {
        let c = try decode(#"{"providers":[{"name":"p","base_url":"http://a/v1","limits":{"rpm":0,"tpm":-5,"max_concurrency":1000000}}],"routes":{"m":{"deployments":[{"provider":"p","weight":0,"limits":{"rpm":200000000}}]}},"workers":{"job_partitions":0,"breaker":{"window_seconds":0,"min_requests":0,"failure_ratio":1.5,"cooldown_ms":0,"half_open_probes":0}}}"#)
        let problems = c.problems()
        #expect(problems.contains("providers[p].limits.rpm must be between 1 and 100000000, got 0"))
        #expect(problems.contains("providers[p].limits.tpm must be between 1 and 100000000000, got -5"))
        #expect(problems.contains("providers[p].limits.max_concurrency must be between 1 and 100000, got 1000000"))
        #expect(problems.contains("routes.m.deployments[0].weight must be between 1 and 1000, got 0"))
        #expect(problems.contains("routes.m.deployments[0].limits.rpm must be between 1 and 100000000, got 200000000"))
        #expect(problems.contains("workers.job_partitions must be between 1 and 100000, got 0"))
        #expect(problems.contains("workers.breaker.window_seconds must be between 1 and 3600, got 0"))
        #expect(problems.contains("workers.breaker.min_requests must be between 1 and 1000000, got 0"))
        #expect(problems.contains("workers.breaker.failure_ratio must be above 0 and at most 1, got 1.5"))
        #expect(problems.contains("workers.breaker.cooldown_ms must be between 1 and 3600000, got 0"))
        #expect(problems.contains("workers.breaker.half_open_probes must be between 1 and 1000, got 0"))
    }

    @Test("provider/model and deployments together are refused")
    func bothForms() {
        #expect(throws: DecodingError.self) {
            try decode(#"{"routes":{"m":{"provider":"p","deployments":[{"provider":"p"}]}}}"#)
        }
    }
}
