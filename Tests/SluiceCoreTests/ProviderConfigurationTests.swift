import Foundation
import SluiceCore
import Testing

@Suite("Provider configuration, pricing and cost")
struct ProviderConfigurationTests {
    private func decode(_ json: String) throws -> SluiceConfiguration {
        try JSONDecoder().decode(SluiceConfiguration.self, from: Data(json.utf8))
    }

    @Test("provider kinds, api_version, default_max_tokens and pricing decode and validate")
    func decoding() throws {
        let c = try decode(#"""
            {"providers": [
               {"name": "az", "kind": "azure", "base_url": "https://x.openai.azure.com", "api_key_env": "AZ", "api_version": "2025-04-01-preview"},
               {"name": "claude", "kind": "anthropic", "base_url": "https://api.anthropic.com/v1", "api_key_file": "/run/secrets/a", "default_max_tokens": 2048},
               {"name": "g", "kind": "gemini", "base_url": "https://generativelanguage.googleapis.com/v1beta"},
               {"name": "local", "kind": "vllm", "base_url": "http://127.0.0.1:8000/v1"}],
             "pricing": {"gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.6}},
             "pricing_currency": "EUR"}
            """#)
        #expect(c.problems().isEmpty)
        #expect(c.providers[0].apiVersion == "2025-04-01-preview")
        #expect(c.providers[1].apiKeyFile == "/run/secrets/a")
        #expect(c.providers[1].defaultMaxTokens == 2_048)
        #expect(c.providers[2].defaultMaxTokens == 4_096)
        #expect(c.pricing["gpt-4o-mini"] == PriceConfiguration(inputPerMillion: 0.15, outputPerMillion: 0.6))
        #expect(c.pricingCurrency == "EUR")
        #expect(SluiceConfiguration().pricingCurrency == "USD")
    }

    @Test("bad kinds, prices, currencies and max tokens are problems naming the key")
    func problems() throws {
        let c = try decode(#"""
            {"providers": [
               {"name": "x", "kind": "bedrock", "base_url": "http://x"},
               {"name": "y", "kind": "anthropic", "base_url": "http://y", "default_max_tokens": 0, "api_key": "k", "api_key_file": "/f"}],
             "pricing": {"m": {"input_per_million": -1, "output_per_million": 1e9}},
             "pricing_currency": "US DOLLARS"}
            """#)
        let problems = c.problems()
        #expect(problems.contains { $0.contains("providers[x].kind 'bedrock'") })
        #expect(problems.contains("providers[y]: set only one of api_key, api_key_env and api_key_file"))
        #expect(problems.contains("providers[y].default_max_tokens must be between 1 and 100000000, got 0"))
        #expect(problems.contains("pricing.m.input_per_million must be between 0.0 and 1000000.0, got -1.0"))
        #expect(problems.contains("pricing.m.output_per_million must be between 0.0 and 1000000.0, got 1000000000.0"))
        #expect(problems.contains { $0.hasPrefix("pricing_currency must be") })
    }

    @Test("api_key_file: read once, trimmed; unreadable or empty files name the provider and key")
    func keyFile() throws {
        let provider = ProviderConfiguration(name: "claude", kind: "anthropic", baseURL: "http://x", apiKeyFile: "/run/secrets/key")
        let resolved = try provider.resolvingKeyFile { path in
            #expect(path == "/run/secrets/key")
            return "  sk-ant-123\n"
        }
        #expect(resolved.apiKey == "sk-ant-123")

        struct Missing: Error {}
        let unreadable = #expect(throws: ConfigurationProblem.self) { try provider.resolvingKeyFile { _ in throw Missing() } }
        #expect(unreadable?.description.hasPrefix("providers[claude].api_key_file '/run/secrets/key' cannot be read") == true)
        let empty = #expect(throws: ConfigurationProblem.self) { try provider.resolvingKeyFile { _ in " \n" } }
        #expect(empty?.description == "providers[claude].api_key_file '/run/secrets/key' is empty")
        let plain = ProviderConfiguration(name: "o", baseURL: "http://x", apiKey: "k")
        #expect(try plain.resolvingKeyFile { _ in Issue.record("no file to read"); return "" }.apiKey == "k")
    }

    @Test("cost: prompt at the input price, completion at the output price; bounded at the extremes")
    func cost() {
        let price = PriceConfiguration(inputPerMillion: 0.15, outputPerMillion: 0.6)
        #expect(abs(price.cost(of: Usage(promptTokens: 1_000_000, completionTokens: 500_000)) - 0.45) < 1e-12)
        let top = PriceConfiguration(inputPerMillion: PriceConfiguration.priceRange.upperBound, outputPerMillion: PriceConfiguration.priceRange.upperBound)
        let most = Usage(promptTokens: Usage.tokenRange.upperBound, completionTokens: Usage.tokenRange.upperBound)
        let extreme = top.cost(of: most)
        #expect(extreme.isFinite && ResultEnvelope.costRange.contains(extreme))
    }

    @Test("a result's cost and currency survive the wire; an out-of-range cost is refused, naming the field")
    func resultCostOnTheWire() throws {
        let result = ResultEnvelope(
            jobID: "j", tenant: "t", attempt: 1, status: .succeeded, model: "m", usage: Usage(promptTokens: 10, completionTokens: 5),
            cost: 0.0042, currency: "USD", startedAtMs: 1, finishedAtMs: 2)
        let decoded = try ResultEnvelope(json: result.json)
        #expect(decoded == result)
        for bad in [JSONValue.double(-1), .double(1e300), .string("cheap")] {
            var json = result.json.objectValue ?? [:]
            json["cost"] = bad
            #expect(throws: JSONShapeError.self) { try ResultEnvelope(json: .object(json)) }
        }
    }
}
