// swift-tools-version:6.0
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "scimsh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "scimsh", targets: ["scimsh"]),
        .library(name: "SCIMCore", targets: ["SCIMCore"]),
        .library(name: "SCIMClient", targets: ["SCIMClient"]),
        .library(name: "SCIMScript", targets: ["SCIMScript"]),
        .library(name: "SCIMSandbox", targets: ["SCIMSandbox"]),
        .library(name: "LineEditor", targets: ["LineEditor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // Wire types shared by client and sandbox: JSON values, the SCIM filter language, users, errors.
        .target(name: "SCIMCore", swiftSettings: upcoming),
        .target(
            name: "SCIMClient",
            dependencies: [
                "SCIMCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "SCIMSandbox",
            dependencies: [
                "SCIMCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "SCIMScript",
            dependencies: ["SCIMCore", "SCIMClient", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: upcoming
        ),
        .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .target(name: "LineEditor", dependencies: ["CLibEdit"], swiftSettings: upcoming),
        .target(
            name: "ScimshCLI",
            dependencies: [
                "SCIMCore", "SCIMClient", "SCIMScript", "SCIMSandbox", "LineEditor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: upcoming,
            plugins: ["EmbedLessons"]
        ),
        // The tutorial's lessons (tutorial/*.toml) built into ScimshCLI, so an installed binary needs no data files.
        .executableTarget(name: "EmbedLessonsTool", swiftSettings: upcoming),
        .plugin(name: "EmbedLessons", capability: .buildTool(), dependencies: ["EmbedLessonsTool"]),
        .executableTarget(name: "scimsh", dependencies: ["ScimshCLI"], swiftSettings: upcoming),
        // Example: a Swift program that embeds the interpreter and adds its own command.
        .executableTarget(
            name: "embed-example",
            dependencies: ["SCIMScript", "SCIMClient", "SCIMSandbox"],
            path: "examples/embed",
            swiftSettings: upcoming
        ),
        // Example: a bulk change with the client library alone (also the benchmark's library-only row).
        .executableTarget(
            name: "bulk-patch-example",
            dependencies: ["SCIMClient", "SCIMCore"],
            path: "examples/bulk-patch",
            swiftSettings: upcoming
        ),
        .target(
            name: "SCIMTestSupport",
            dependencies: ["SCIMSandbox", "SCIMClient", "SCIMCore"],
            swiftSettings: upcoming
        ),
        .testTarget(name: "SCIMCoreTests", dependencies: ["SCIMCore"], swiftSettings: upcoming),
        .testTarget(
            name: "SCIMClientTests",
            dependencies: [
                "SCIMClient", "SCIMSandbox", "SCIMTestSupport",
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "SCIMSandboxTests",
            dependencies: [
                "SCIMSandbox", "SCIMTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "SCIMScriptTests",
            dependencies: ["SCIMScript", "SCIMClient", "SCIMSandbox", "SCIMTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(name: "LineEditorTests", dependencies: ["LineEditor"], swiftSettings: upcoming),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["SCIMTestSupport", "SCIMSandbox", "SCIMClient"],
            swiftSettings: upcoming
        ),
    ]
)
