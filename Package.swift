// swift-tools-version: 6.2
import PackageDescription

/// Every Keel target's settings. With `KEEL_WARNINGS_AS_ERRORS=1` (CI, scripts/validate) a warning in
/// Keel's own code fails the build; dependencies are not affected.
let strict: [SwiftSetting] =
    [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("InternalImportsByDefault"),
    ] + (Context.environment["KEEL_WARNINGS_AS_ERRORS"] == "1" ? [.treatAllWarnings(as: .error)] : [])

let package = Package(
    name: "Keel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PGClient", targets: ["PGClient"]),
        .library(name: "AMQPClient", targets: ["AMQPClient"]),
        .library(name: "SSHClient", targets: ["SSHClient"]),
        .library(name: "KeelCore", targets: ["KeelCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(
            url: "https://github.com/apple/swift-configuration", from: "1.4.0",
            traits: [.defaults, "CommandLineArguments"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP/HTTP only: the gRPC exporter's dependencies are not built.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The operators' API: generated from Sources/KeelAPI/openapi.yaml at build time.
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
    ],
    targets: [
        // C libraries through pkg-config, each with the thinnest header-only shim.
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(
            name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // The few Linux process calls Swift cannot reach (variadic prctl, _GNU_SOURCE posix_spawn actions).
        .target(name: "CKeelProcess"),

        // Swift clients over them; no Keel knowledge inside.
        // What the C-library clients share: thread counting, server lists.
        .target(name: "ClientSupport", exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "PGClient",
            dependencies: [
                "CLibPQ", "ClientSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict),
        .target(
            name: "AMQPClient",
            dependencies: [
                "CRabbitMQ", "ClientSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict),
        .target(
            name: "SSHClient",
            dependencies: [
                "CLibSSH2",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict),

        // Keel's own libraries.
        .target(
            name: "KeelSchema",
            path: "Schema",
            exclude: ["README.md"],
            resources: [.copy("migrations")],
            swiftSettings: strict),
        .target(
            name: "KeelStore",
            dependencies: [
                "PGClient", "KeelSchema", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "KeelBus",
            dependencies: [
                "AMQPClient", "PGClient", "KeelStore", "KeelCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict),
        .target(
            name: "KeelService",
            dependencies: [
                "CKeelProcess", "PGClient", "AMQPClient", "KeelBus", "KeelStore", "KeelCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            exclude: ["README.md"], swiftSettings: strict),

        // The operators' API (docs/api.md): types, server interface and client generated from
        // openapi.yaml, which the approval-service also serves as it is.
        .target(
            name: "KeelAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            resources: [.copy("openapi.yaml")],
            // The generator writes `public import` into files that end up empty (no header or request body
            // components) and marks them for a compiler newer than ours; its warnings are not Keel's.
            swiftSettings: [.unsafeFlags(["-suppress-warnings"])],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]),

        // The four services, each its own executable, and the CLI.
        .executableTarget(
            name: "trigger-intake",
            dependencies: [
                "KeelService", "KeelBus", "KeelStore", "KeelCore", "AMQPClient", "PGClient",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Services/TriggerIntake",
            exclude: ["README.md", "Dockerfile"], swiftSettings: strict),
        .executableTarget(
            name: "step-executor",
            dependencies: [
                "KeelService", "KeelBus", "KeelStore", "KeelCore", "AMQPClient", "PGClient", "SSHClient",
                "CKeelProcess", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/StepExecutor",
            exclude: ["README.md", "Dockerfile"], swiftSettings: strict),
        .executableTarget(
            name: "approval-service",
            dependencies: [
                "KeelService", "KeelBus", "KeelStore", "KeelCore", "PGClient", "KeelAPI", "AMQPClient",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Webhook notifications: posting them, and their settings.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            path: "Services/ApprovalService",
            exclude: ["README.md", "Dockerfile"], swiftSettings: strict),
        .executableTarget(
            name: "callback-gateway",
            dependencies: [
                "KeelService", "KeelBus", "KeelStore", "KeelCore", "AMQPClient", "PGClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/CallbackGateway",
            exclude: ["README.md", "Dockerfile"], swiftSettings: strict),
        .executableTarget(
            name: "keel",
            dependencies: [
                "KeelCore", "KeelStore", "KeelBus", "PGClient", "AMQPClient", "KeelAPI",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/keel",
            swiftSettings: strict),

        // Keel's domain core: the JSON model, the JSON Schema validator and flow definitions.
        // No I/O: Yams to read flow YAML with line and column positions, swift-crypto for SHA-256.
        .target(
            name: "KeelCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["README.md", "Flow/README.md"],
            swiftSettings: strict),

        // The performance harness: a program, not a test.
        .executableTarget(
            name: "keel-bench",
            dependencies: [
                "PGClient", "AMQPClient", "CLibPQ", "CRabbitMQ", "KeelCore", "KeelStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/KeelBench",
            swiftSettings: strict),

        // Tests against the real servers started by scripts/test.
        .target(
            name: "KeelTestSupport",
            dependencies: ["PGClient", "KeelStore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/KeelTestSupport", swiftSettings: strict),
        .testTarget(
            name: "TriggerIntakeTests",
            dependencies: [
                "trigger-intake", "KeelTestSupport", "KeelStore", "KeelBus", "KeelCore", "AMQPClient",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "PGClientTests", dependencies: ["PGClient", "KeelTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "AMQPClientTests",
            dependencies: ["AMQPClient", "KeelTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "KeelCoreTests", dependencies: ["KeelCore"], resources: [.copy("Fixtures")],
            swiftSettings: strict),
        .testTarget(
            name: "SSHClientTests",
            dependencies: [
                "SSHClient", "KeelTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "KeelStoreTests",
            dependencies: [
                "KeelStore", "PGClient", "KeelTestSupport", "KeelCore",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "StepExecutorTests",
            dependencies: [
                "step-executor", "KeelStore", "KeelCore", "KeelBus", "AMQPClient", "PGClient", "SSHClient",
                "KeelTestSupport", "KeelService",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            exclude: ["Recorded"],
            swiftSettings: strict),
        .testTarget(
            name: "KeelBusTests",
            dependencies: [
                "KeelBus", "KeelStore", "KeelCore", "AMQPClient", "PGClient", "KeelTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "KeelCLITests",
            dependencies: [
                "keel", "KeelCore", "KeelTestSupport", .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "KeelServiceTests",
            dependencies: [
                "KeelService", "KeelTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CallbackGatewayTests",
            dependencies: ["callback-gateway", "KeelStore", "KeelCore", "KeelService"],
            swiftSettings: strict),
        .testTarget(
            name: "ApprovalServiceTests",
            dependencies: [
                "approval-service", "KeelStore", "KeelCore", "PGClient", "KeelTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "KeelTestSupport", "AMQPClient", "PGClient", "KeelBus", "KeelCore", "KeelStore",
                .product(name: "Logging", package: "swift-log"),
                // Verifying webhook signatures as a receiver would.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
    ]
)
