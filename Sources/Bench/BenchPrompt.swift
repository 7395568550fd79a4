/// The prompts the bench submits: several real sentences, about a given size, unique per job.
///
/// Sentences rather than random bytes so that redaction, token estimates and the stub's
/// first-sentence summary all do realistic work; the job index and run tag in the first
/// sentence make every prompt unique.
enum BenchPrompt {
    private static let sentences = [
        "The warehouse received forty pallets of ceramic tiles on Tuesday morning.",
        "Two of the pallets arrived with cracked corner boards and were set aside for inspection.",
        "The carrier agreed to collect the damaged goods before the end of the week.",
        "Inventory counts were updated in the afternoon and matched the delivery note.",
        "A new forklift operator started training with the night shift.",
        "Customers in the northern region asked whether delivery times would change.",
        "The finance team flagged an invoice that listed the wrong unit price.",
        "Safety signage near the loading bay was replaced after the audit.",
    ]

    /// A prompt of at least `bytes` UTF-8 bytes (whole sentences, so a little more).
    static func text(index: Int, runTag: String, bytes: Int) -> String {
        var text = "Bench job \(index) of run \(runTag) needs a short summary."
        var next = index % sentences.count
        while text.utf8.count < bytes {
            text += " " + sentences[next]
            next = (next + 1) % sentences.count
        }
        return text
    }
}
