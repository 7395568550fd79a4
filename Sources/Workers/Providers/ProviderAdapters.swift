/// The adapter for each provider kind.
enum ProviderAdapters {
    /// The adapter speaking `kind`'s wire format, or nil for a kind this worker cannot speak.
    static func adapter(for kind: String) -> (any ProviderAdapter)? {
        OpenAIChatAdapter.kinds.contains(kind) ? OpenAIChatAdapter() : nil
    }
}
