/// The adapter for each provider `kind`.
enum ProviderAdapters {
    /// nil for a kind no adapter speaks (the router refuses such providers at start).
    static func adapter(for kind: String) -> (any ProviderAdapter)? {
        if OpenAIChatAdapter.kinds.contains(kind) { return OpenAIChatAdapter() }
        if AzureOpenAIAdapter.kinds.contains(kind) { return AzureOpenAIAdapter() }
        if AnthropicMessagesAdapter.kinds.contains(kind) { return AnthropicMessagesAdapter() }
        if GeminiGenerateContentAdapter.kinds.contains(kind) { return GeminiGenerateContentAdapter() }
        return nil
    }

    static var kinds: Set<String> {
        OpenAIChatAdapter.kinds.union(AzureOpenAIAdapter.kinds).union(AnthropicMessagesAdapter.kinds).union(GeminiGenerateContentAdapter.kinds)
    }
}
