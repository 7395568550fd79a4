import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import SluiceCore
import Testing

/// `/openapi.json` describes exactly the routes the router holds: the router of a fully wired
/// ingress is enumerated (Hummingbird's `Router.routes`), so a route added without its entry
/// in the document fails here, with no second list to keep by hand.
@Suite("OpenAPI document against the router")
struct OpenAPICoverageTests {
    static func document(_ router: Router<SluiceRequestContext>) async throws -> JSONValue {
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                return try JSONValue.parse(response.body.readableBytesView)
            }
        }
    }

    static func collectRefs(_ value: JSONValue, into refs: inout [String]) {
        if let object = value.objectValue {
            for (key, child) in object {
                if key == "$ref", let ref = child.stringValue { refs.append(ref) } else { collectRefs(child, into: &refs) }
            }
        } else if let array = value.arrayValue {
            for child in array { collectRefs(child, into: &refs) }
        }
    }

    @Test("every (method, path) the router serves is in the document, and the document names no route the router lacks")
    func everyRouteDocumented() async throws {
        let wired = try RouteAuthenticationTests.Wired()
        defer { wired.done() }
        let router = wired.service.buildRouter()
        let routed = Set(router.routes.map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })
        let document = try await Self.document(router)
        #expect(document["openapi"]?.stringValue == "3.1.0")
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var documented = Set<String>()
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in (item.objectValue ?? [:]).keys where methods.contains(method) { documented.insert("\(method) \(path)") }
        }
        #expect(routed.count >= 40, "\(routed.sorted())")
        #expect(routed.subtracting(documented).isEmpty, "routed but not in /openapi.json: \(routed.subtracting(documented).sorted())")
        #expect(documented.subtracting(routed).isEmpty, "in /openapi.json but not routed: \(documented.subtracting(routed).sorted())")
    }

    @Test("every operation has a unique operationId and documents its 401 unless it is open; every $ref resolves")
    func operationsAreComplete() async throws {
        let wired = try RouteAuthenticationTests.Wired()
        defer { wired.done() }
        let document = try await Self.document(wired.service.buildRouter())
        var ids = Set<String>()
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, operation) in item.objectValue ?? [:] {
                let id = operation["operationId"]?.stringValue ?? ""
                #expect(!id.isEmpty && ids.insert(id).inserted, "\(method) \(path): operationId '\(id)'")
                let open = operation["security"] == .array([])
                #expect(open == RouteAuthenticationTests.open.contains("\(method.uppercased()) \(path)"), "\(method) \(path): security")
                if !open { #expect(operation["responses"]?["401"] != nil, "\(method) \(path) does not document its 401") }
            }
        }
        var refs: [String] = []
        Self.collectRefs(document, into: &refs)
        #expect(refs.count > 50)
        for ref in refs {
            let parts = ref.split(separator: "/").map(String.init)
            #expect(parts.count == 4 && parts[0] == "#" && parts[1] == "components", "\(ref)")
            guard parts.count == 4 else { continue }
            #expect(document["components"]?[parts[2]]?[parts[3]] != nil, "dangling \(ref)")
        }
    }
}
