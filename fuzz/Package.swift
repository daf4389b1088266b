// swift-tools-version:6.0
// libFuzzer harnesses for scimsh (docs/reliability.md). A package of its own, so that the main `swift build` and
// `make test` never see them: `make fuzz` builds it with `-sanitize=fuzzer,address` in .build-fuzz.
import PackageDescription

let harnesses: [(name: String, dependencies: [String])] = [
    ("FuzzJSON", ["SCIMCore"]),
    ("FuzzFilter", ["SCIMCore"]),
    ("FuzzScript", ["SCIMScript"]),
    ("FuzzCompletion", ["SCIMScript"]),
    ("FuzzRecords", ["SCIMScript", "SCIMCore"]),
    ("FuzzRetryAfter", ["SCIMClient"]),
]

let package = Package(
    name: "scimsh-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "scimsh", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzDriver"]),
    ]
        + harnesses.map { harness in
            .executableTarget(
                name: harness.name,
                dependencies: ["FuzzDriver"] + harness.dependencies.map { .product(name: $0, package: "scimsh") }
            )
        }
)
