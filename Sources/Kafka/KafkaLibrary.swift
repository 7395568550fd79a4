internal import CRdKafka

/// Facts about the loaded librdkafka.
///
/// Debian 12 ships librdkafka 2.0.2, which fails against the dev broker at the first request
/// ("ApiVersionRequest failed: Local: Read underflow"); checking at start-up turns that into a
/// clear message instead of a confusing hang.
public enum KafkaLibrary {
    /// The oldest librdkafka Sluice runs on (2.10.0), in `rd_kafka_version()` form.
    ///
    /// 2.8.0 talks to the dev broker but, when a broker restarts without its state and its
    /// topics are recreated (new topic ids under the same names), corrupts its metadata cache
    /// (librdkafka issue #4964, fixed in 2.10.0) and crashes or stops consuming.
    static let minimumVersion: Int32 = 0x020A_0000

    /// The loaded library's version in `rd_kafka_version()` form (0xMMmmrrpp).
    static var versionNumber: Int32 {
        rd_kafka_version()
    }

    /// The loaded library's version string (`rd_kafka_version_str`), such as `2.8.0`.
    public static var version: String {
        String(cString: rd_kafka_version_str())
    }

    /// Throws when the loaded librdkafka is older than 2.10.0.
    ///
    /// - Throws: `KafkaError` (`unsupportedFeature`) whose message says to run `scripts/setup`.
    public static func requireSupportedVersion() throws {
        guard rd_kafka_version() >= minimumVersion else {
            throw KafkaError(
                code: .unsupportedFeature,
                message: "librdkafka \(version) is loaded but Sluice needs 2.10.0 or newer "
                    + "(older ones fail against the dev broker or crash when topics are recreated); run scripts/setup to build and install it "
                    + "into /usr/local, then `ldconfig`, and check with `ldd` that it is the one loaded",
                isRetriable: false
            )
        }
    }
}
