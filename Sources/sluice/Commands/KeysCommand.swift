import ArgumentParser

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self])

    /// Keys live in the config file for now: this makes a strong one and prints the lines to add.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Generate an API key and print the config lines that enable it.")

        @Option(name: .long, help: "Tenant id.")
        var tenant: String

        @Option(name: .long, help: "submitter, auditor or admin.")
        var role: String = "submitter"

        func validate() throws {
            guard ["submitter", "auditor", "admin"].contains(role) else {
                throw ValidationError("--role must be submitter, auditor or admin")
            }
            guard !tenant.isEmpty, tenant.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ValidationError("--tenant must be letters, digits, '-' or '_'")
            }
        }

        func run() async throws {
            var random = SystemRandomNumberGenerator()
            let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            let secret = String((0..<40).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            let key = "sk-sluice-\(secret)"
            print("""
            # Add under 'tenants:' in sluice.yaml, then restart ingress:
            - id: \(tenant)
              keys:
                - key: \(key)
                  role: \(role)
            """)
        }
    }
}
