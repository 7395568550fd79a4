import Foundation
import SluiceCore
import Testing

@Suite("Core types")
struct SluiceCoreTests {
    @Test("UUIDv7 ids are well formed, version 7, RFC variant and strictly increasing")
    func uuidv7() {
        let ids = (0..<10_000).map { _ in UUIDv7.generate() }
        for id in ids.prefix(100) {
            #expect(UUIDv7.isWellFormed(id))
            #expect(Array(id)[14] == "7")
            #expect("89ab".contains(Array(id)[19]))
        }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "ids from one process must sort in creation order")
        #expect(Set(ids).count == ids.count)
        #expect(!UUIDv7.isWellFormed("not-a-uuid"))
        #expect(!UUIDv7.isWellFormed("0193a0c4-0000-7000-8000-00000000000g"))
    }

    @Test("priorities parse from topic names and client words")
    func priorities() {
        #expect(Priority(parsing: "interactive") == .p0)
        #expect(Priority(parsing: "P1") == .p1)
        #expect(Priority(parsing: "bulk") == .p2)
        #expect(Priority(parsing: "urgent") == nil)
    }

    @Test("topic names follow the prefix")
    func topics() {
        let catalog = TopicCatalog(prefix: "acme")
        #expect(catalog.jobs(.p2) == "acme.jobs.p2")
        #expect(catalog.resolve("sluice.jobs.retry.5s") == "acme.jobs.retry.5s")
        #expect(catalog.priority(ofTopic: "acme.jobs.p0") == .p0)
        #expect(catalog.priority(ofTopic: "acme.results") == nil)
        #expect(TopicCatalog().resolve("sluice.audit") == "sluice.audit")
    }

    @Test("configuration: only what differs needs saying; mistakes are named")
    func configuration() throws {
        let json = #"{"kafka":{"bootstrap_servers":"k:9092"},"providers":[{"name":"stub","base_url":"http://x/v1"}],"routes":{"demo":{"provider":"stub"},"bad":{"provider":"nope"}}}"#
        let c = try JSONDecoder().decode(SluiceConfiguration.self, from: Data(json.utf8))
        #expect(c.kafka.bootstrapServers == "k:9092")
        #expect(c.kafka.sessionTimeoutMs == 45_000)
        #expect(c.ingress.port == 8080 && c.ingress.maxBodyBytes == 1 << 20)
        #expect(c.workers.maxInFlight == 256 && c.workers.weights == [8, 4, 1])
        #expect(c.problems() == ["routes.bad.provider 'nope' is not one of providers[].name"])
    }

    @Test("envelopes round-trip and keep unknown request fields")
    func envelopes() throws {
        let job = JobEnvelope(
            id: UUIDv7.generate(), tenant: "acme", model: "demo", priority: .p1,
            request: ["messages": [["role": "user", "content": "hi"]], "temperature": .double(0.2), "x_vendor": ["a": 1]],
            createdAtMs: 1
        )
        let back = try Wire.decode(JobEnvelope.self, from: try Wire.encode(job))
        #expect(back == job)
        #expect(back.request["x_vendor"]?["a"]?.intValue == 1)
    }
}
