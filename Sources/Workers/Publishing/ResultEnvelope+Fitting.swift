import SluiceCore

extension ResultEnvelope {
    /// A copy small enough for a Kafka record of `maxBytes` once serialized (`size` is this
    /// one's serialized size, already known to the caller).
    ///
    /// Providers may answer up to the HTTP client's body cap (16 MiB by default), more than a
    /// record may hold. The message texts of the choices are cut first, since they are what
    /// grows; if that is not enough the response keeps only its envelope. Either way the
    /// response says so (`sluice_truncated: true`, `sluice_original_bytes`), so a reader never
    /// mistakes a cut answer for a whole one.
    func fitting(maxBytes: Int, size: Int) -> ResultEnvelope {
        guard size > maxBytes, case .object(var response)? = response else { return self }
        response["sluice_truncated"] = true
        response["sluice_original_bytes"] = .int(Int64(size))
        var copy = self
        if case .array(var choices)? = response["choices"], !choices.isEmpty {
            // What each choice's text may keep: an equal share of the budget, with headroom for
            // everything else in the record.
            let share = max(0, (maxBytes - 64 * 1024) / choices.count)
            for i in choices.indices {
                guard case .object(var choice) = choices[i], case .object(var message)? = choice["message"],
                    case .string(let content)? = message["content"]
                else { continue }
                message["content"] = .string(Truncation.prefix(content, maxBytes: share))
                choice["message"] = .object(message)
                choices[i] = .object(choice)
            }
            response["choices"] = .array(choices)
            copy.response = .object(response)
            if Wire.encode(copy).count <= maxBytes { return copy }
        }
        var skeleton: [String: JSONValue] = ["sluice_truncated": true, "sluice_original_bytes": .int(Int64(size)), "choices": []]
        for key in ["id", "object", "created", "model", "usage"] { skeleton[key] = response[key] }
        copy.response = .object(skeleton)
        return copy
    }
}
