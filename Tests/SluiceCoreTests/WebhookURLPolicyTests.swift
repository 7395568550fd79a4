import SluiceCore
import Testing

/// The SSRF guard on webhook URLs: literals and resolved addresses in denied ranges are
/// refused with a reason; allowlists open exactly what they name.
@Suite("Webhook URL policy")
struct WebhookURLPolicyTests {
    /// Names resolve through this table only: no test depends on real DNS or outside addresses.
    static let resolver = WebhookURLPolicy.Resolver.table([
        "public.test": ["93.184.215.14"],
        "rebind.test": ["93.184.215.14", "127.0.0.1"],
        "metadata.test": ["169.254.169.254"],
        "v6private.test": ["fd12::1"],
    ])

    static func refusal(_ url: String, rules: WebhookAllowRules = .init(), tenant: String? = nil) async -> String? {
        do {
            try await WebhookURLPolicy(rules: rules, resolver: resolver).check(url, tenant: tenant)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("private, loopback, link-local, metadata, CGNAT and unspecified literals are refused", arguments: [
        "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://127.0.0.1/",
        "https://172.16.5.4/", "https://192.168.1.1/", "https://100.64.0.1/", "https://0.0.0.0/", "https://[::]/",
        "https://[fe80::1]/", "https://[fc00::1]/", "https://[fd00:ec2::254]/", "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:10.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/", "https://[2002:7f00:1::]/",
    ])
    func deniedLiterals(_ url: String) async {
        let reason = await Self.refusal(url)
        #expect(reason != nil, "accepted \(url)")
    }

    @Test("the metadata address is named as such")
    func metadataNamed() async {
        #expect(await Self.refusal("https://169.254.169.254/") == "'169.254.169.254' is a cloud metadata address")
    }

    @Test("a name is checked on every address it resolves to (one loopback address is enough to refuse)")
    func resolvedAddresses() async {
        #expect(await Self.refusal("https://public.test/hook") == nil)
        #expect(await Self.refusal("https://rebind.test/hook")?.contains("127.0.0.1") == true)
        #expect(await Self.refusal("https://metadata.test/hook")?.contains("metadata") == true)
        #expect(await Self.refusal("https://v6private.test/hook")?.contains("private") == true)
        #expect(await Self.refusal("https://unknown.test/hook")?.contains("does not resolve") == true)
    }

    @Test("localhost resolves through the hosts file to loopback and is refused")
    func localhostThroughHostsFile() async {
        // The real resolver: /etc/hosts maps localhost to 127.0.0.1 (and ::1); no DNS is asked.
        do {
            try await WebhookURLPolicy(rules: .init(), resolver: .system).check("https://localhost:8443/hook")
            Issue.record("localhost accepted")
        } catch {
            #expect(error.reason.contains("loopback"))
        }
    }

    @Test("plain http is refused unless allowed")
    func httpRefused() async {
        #expect(await Self.refusal("http://public.test/hook")?.contains("https") == true)
        #expect(await Self.refusal("http://public.test/hook", rules: .init(allowHTTP: true)) == nil)
    }

    @Test("an allowlisted range or host opens loopback; another tenant's allowlist does not")
    func allowlists() async {
        let loopback = WebhookAllowRules(allowNetworks: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!], allowHTTP: true)
        #expect(await Self.refusal("http://127.0.0.1:9000/hook", rules: loopback) == nil)
        #expect(await Self.refusal("http://[::1]:9000/hook", rules: loopback) == nil)
        #expect(await Self.refusal("http://10.0.0.1/hook", rules: loopback) != nil)
        let byHost = WebhookAllowRules(allowHosts: ["rebind.test"])
        #expect(await Self.refusal("https://rebind.test/hook", rules: byHost) == nil)
        let perTenant = WebhookAllowRules(tenants: ["demo": loopback])
        #expect(await Self.refusal("http://127.0.0.1/hook", rules: perTenant, tenant: "demo") == nil)
        #expect(await Self.refusal("http://127.0.0.1/hook", rules: perTenant, tenant: "other") != nil)
    }

    @Test("malformed URLs are refused with a reason", arguments: [
        "ftp://public.test/", "public.test/hook", "https://user:pw@public.test/", "https://public.test:0/",
        "https://public.test:99999/", "https:///nohost", "https://[::1/", "https://public.test/a b", "https://public.test/#frag",
    ])
    func malformed(_ url: String) async {
        #expect(await Self.refusal(url) != nil, "accepted \(url)")
    }

    @Test("schedule durations parse within range and refuse the rest")
    func durations() {
        #expect(WebhooksConfiguration.durationMs("0s") == 0)
        #expect(WebhooksConfiguration.durationMs("5s") == 5_000)
        #expect(WebhooksConfiguration.durationMs("500ms") == 500)
        #expect(WebhooksConfiguration.durationMs("30m") == 1_800_000)
        #expect(WebhooksConfiguration.durationMs("24h") == 86_400_000)
        #expect(WebhooksConfiguration.durationMs("3") == 3_000)
        for bad in ["", "-5s", "5d", "999999999h", "1e9", "s"] {
            #expect(WebhooksConfiguration.durationMs(bad) == nil, "parsed \(bad)")
        }
        var c = WebhooksConfiguration()
        c.retrySchedule = ["0s", "soon"]
        c.timeoutMs = 0
        c.tenants = ["t": .init(secrets: ["nope"])]
        let problems = c.problems()
        #expect(problems.contains { $0.contains("webhooks.retry_schedule[1]") })
        #expect(problems.contains { $0.contains("webhooks.timeout_ms") })
        #expect(problems.contains { $0.contains("webhooks.tenants.t.secrets[0]") })
    }
}
