// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Keel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PGClient", targets: ["PGClient"]),
        .library(name: "AMQPClient", targets: ["AMQPClient"]),
        .library(name: "SSHClient", targets: ["SSHClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C libraries through pkg-config, each with the thinnest header-only shim.
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(
            name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),

        // Swift clients over them; no Keel knowledge inside.
        .target(
            name: "PGClient",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "AMQPClient",
            dependencies: [
                "CRabbitMQ",
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
            swiftSettings: strict),

        // The performance harness: a program, not a test.
        .executableTarget(
            name: "keel-bench",
            dependencies: ["PGClient", "AMQPClient", "CLibPQ", "CRabbitMQ"],
            path: "Benchmarks/KeelBench",
            swiftSettings: strict),

        // Tests against the real servers started by scripts/test.
        .target(name: "KeelTestSupport", path: "Tests/KeelTestSupport", swiftSettings: strict),
        .testTarget(
            name: "PGClientTests", dependencies: ["PGClient", "KeelTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "AMQPClientTests",
            dependencies: ["AMQPClient", "KeelTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "SSHClientTests", dependencies: ["SSHClient", "KeelTestSupport"],
            swiftSettings: strict),
    ]
)
