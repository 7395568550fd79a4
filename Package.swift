// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        // HTTPS for the ingress (HummingbirdTLS builds on it).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
    ],
    targets: [
        // MARK: - C libraries (headers only; see scripts/setup for how they are installed)
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // MARK: - Libraries
        .target(
            name: "SluiceCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Domain-free: bytes, keys, headers, offsets; knows nothing of jobs.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Sluice's envelopes as Kafka records (the headers every record carries).
        .target(
            name: "SluiceKafka",
            dependencies: ["SluiceCore", "Kafka"],
            swiftSettings: strict
        ),
        .target(
            name: "Ingress",
            dependencies: [
                "SluiceCore", "Kafka", "SluiceKafka", "Redaction",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The libcurl multi HTTP client (keep-alive, timeouts, capped bodies): provider calls,
        // the load generator and tests.
        .target(
            name: "SluiceHTTP",
            dependencies: ["CCurl"],
            swiftSettings: strict
        ),
        .target(
            name: "Workers",
            dependencies: [
                "SluiceHTTP", "SluiceCore", "Kafka", "SluiceKafka",
                // HMAC-SHA256 for Standard Webhooks signatures.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Ledger",
            dependencies: [
                "SluiceCore", "Kafka",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // PII and secret detection and redaction (ingress, `sluice redact`).
        .target(
            name: "Redaction",
            dependencies: ["SluiceCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The fake LLM provider behind `sluice stub-provider` (demos, tests, benchmarks).
        .target(
            name: "StubProvider",
            dependencies: [
                "SluiceCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Span export over OTLP/HTTP (JSON) when `tracing.otlp_endpoint` is set.
        .target(
            name: "Telemetry",
            dependencies: [
                "SluiceCore", "SluiceHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The load generator behind `sluice bench`.
        .target(
            name: "Bench",
            dependencies: ["SluiceCore", "SluiceHTTP"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceCore", "SluiceHTTP", "Kafka", "Ingress", "Workers", "Ledger", "StubProvider", "Bench", "Telemetry", "Redaction",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Tests
        // Hostile request bodies, shared by the in-process and the live fuzz tests.
        .target(name: "RequestFuzzing", dependencies: ["SluiceCore"], path: "Tests/RequestFuzzing", swiftSettings: strict),
        // Runs a stub provider on a free port for the duration of a test.
        .target(
            name: "StubHarness",
            dependencies: [
                "SluiceCore", "SluiceHTTP", "StubProvider",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/StubHarness", swiftSettings: strict
        ),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"], swiftSettings: strict),
        // Kafka for DedicatedThread: the corpus run is a minute of CPU off the concurrency pool.
        .testTarget(name: "RedactionTests", dependencies: ["Redaction", "SluiceCore", "Kafka"], swiftSettings: strict),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "SluiceCore"], swiftSettings: strict),
        .testTarget(
            name: "IngressTests",
            dependencies: [
                "Ingress", "Ledger", "SluiceCore", "Kafka", "RequestFuzzing", "Redaction",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SluiceHTTPTests",
            dependencies: ["SluiceHTTP", "SluiceCore", "StubProvider", "StubHarness", "Telemetry"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WorkersTests",
            dependencies: [
                "Workers", "SluiceHTTP", "SluiceCore", "StubProvider", "StubHarness",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Provider request, response and error bodies, read through #filePath.
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        // GRDB: tests install a trigger to make SQLite refuse one record (poison-record tests).
        .testTarget(
            name: "LedgerTests", dependencies: ["Ledger", "SluiceCore", "Kafka", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        // Drives the built `sluice` binary as real processes against the dev broker.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "SluiceCore", "SluiceHTTP", "Workers", "StubProvider", "RequestFuzzing", "Kafka", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
    ]
)
