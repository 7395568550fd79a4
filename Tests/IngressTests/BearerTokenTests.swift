@testable import Ingress
import SluiceCore
import Testing

/// Which `Authorization` values name a key: the byte scan that replaced Foundation's
/// split/lowercase/trim must answer every form as before, and a 401 for the rest.
@Suite("Bearer credentials")
struct BearerTokenTests {
    @Test(
        "the scheme in any case, spaces around the token, and nothing else",
        arguments: [
            ("Bearer sk-1", "sk-1"),
            ("bearer sk-1", "sk-1"),
            ("BEARER sk-1", "sk-1"),
            ("  Bearer   sk-1 \t ", "sk-1"),
            ("Bearer sk-ü1", "sk-ü1"),
        ])
    func accepted(header: String, token: String) {
        #expect(KeyRing.bearerToken(header) == token)
    }

    @Test(
        "not a bearer credential",
        arguments: ["", "Bearer", "Bearer ", "Bearer \t ", "Basic sk-1", "Bearer\tsk-1", "Bearers sk-1", "Bear sk-1", "sk-1", "Bearer@sk-1"])
    func refused(header: String) {
        #expect(KeyRing.bearerToken(header) == nil)
    }

    @Test("a configured key authenticates in any of the accepted forms; a near miss is a 401")
    func authenticates() throws {
        let ring = try KeyRing(tenants: [TenantConfiguration(id: "acme", keys: [APIKeyConfiguration(key: "sk-sluice-acme")])])
        #expect(try ring.authenticate("bearer  sk-sluice-acme ").tenant == "acme")
        #expect(throws: APIError.self) { try ring.authenticate("Bearer sk-sluice-acm") }
        #expect(throws: APIError.self) { try ring.authenticate("Token sk-sluice-acme") }
        #expect(throws: APIError.self) { try ring.authenticate(nil) }
    }
}
