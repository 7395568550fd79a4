import ArgumentParser
import Foundation
import Ledger
import SluiceCore

/// `sluice usage`: per-tenant usage and cost from the ledger, by day, model and key.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Report jobs, tokens and cost per tenant from the ledger, grouped by day, model and/or key.")

    @OptionGroup var options: CommonOptions
    @Option(help: "Only this tenant.") var tenant: String?
    @Option(help: "Results recorded from this time (Unix ms or RFC 3339).") var from: String?
    @Option(help: "... up to this time, exclusive.") var to: String?
    @Option(help: "Comma-separated: day, model, key. Default: day,model.") var by: String = "day,model"
    @Option(help: "table, csv or jsonl.") var format: String = "table"

    func validate() throws {
        _ = try groups()
        guard ["table", "csv", "jsonl"].contains(format) else { throw ValidationError("--format must be table, csv or jsonl") }
        _ = try AuditCommand.time(from, option: "from")
        _ = try AuditCommand.time(to, option: "to")
    }

    private func groups() throws -> [LedgerStore.UsageGrouping] {
        try by.split(separator: ",").map { name in
            guard let group = LedgerStore.UsageGrouping(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--by takes day, model and key, comma-separated; got '\(name)'")
            }
            return group
        }
    }

    func run() async throws {
        let wiring = try options.wiring("sluice.usage")
        let store = try wiring.ledgerStore(readOnly: true)
        let rows = try await store.usage(
            tenant: tenant, fromMs: try AuditCommand.time(from, option: "from"), toMs: try AuditCommand.time(to, option: "to"),
            groupBy: try groups())
        let header = ["tenant", "day", "model", "key_id", "jobs", "succeeded", "prompt_tokens", "completion_tokens", "cost", "currency"]
        func fields(_ row: LedgerStore.UsageRow) -> [String] {
            [
                row.tenant, row.day ?? "", row.model ?? "", row.keyID ?? "", String(row.jobs), String(row.succeeded),
                String(row.promptTokens), String(row.completionTokens), row.cost.map { String(format: "%.6f", $0) } ?? "",
                row.currency ?? "",
            ]
        }
        switch format {
        case "jsonl":
            for row in rows {
                var object: [String: JSONValue] = [
                    "tenant": .string(row.tenant), "jobs": .int(Int64(row.jobs)), "succeeded": .int(Int64(row.succeeded)),
                    "prompt_tokens": .int(row.promptTokens), "completion_tokens": .int(row.completionTokens),
                ]
                if let day = row.day { object["day"] = .string(day) }
                if let model = row.model { object["model"] = .string(model) }
                if let key = row.keyID { object["key_id"] = .string(key) }
                if let cost = row.cost, cost.isFinite { object["cost"] = .double(cost) }
                if let currency = row.currency { object["currency"] = .string(currency) }
                print(String(decoding: JSONValue.object(object).serialized(), as: UTF8.self))
            }
        case "csv":
            print(header.joined(separator: ","))
            for row in rows {
                print(fields(row).map { $0.contains(",") || $0.contains("\"") ? "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" : $0 }
                    .joined(separator: ","))
            }
        default:
            let table = [header] + rows.map(fields)
            let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
            for line in table {
                print(line.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }
}
