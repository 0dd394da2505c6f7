// swift-tools-version: 6.1
import PackageDescription

import struct Foundation.URL

// Performance benchmarks for snap, kept in their own package so that building or testing
// the main package never builds the benchmark harness or fetches its dependencies.
//
// Run from this directory: `swift package benchmark` (see README.md).

// A package referenced by path is identified by its directory's name, which is whatever
// the checkout of the main repository happens to be called; work it out rather than
// hard-coding it.
let snapIdentity = URL(fileURLWithPath: Context.packageDirectory)
    .deletingLastPathComponent()
    .lastPathComponent
    .lowercased()

let package = Package(
    name: "snap-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        // Only the MallocInterposer trait: the package's default traits also enable
        // RuntimeInterposer, which pulls in a dependency that is not available here.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SnapBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SnapChunker", package: snapIdentity),
                .product(name: "SnapCrypto", package: snapIdentity),
                .product(name: "SnapCompression", package: snapIdentity),
                .product(name: "SnapRepository", package: snapIdentity),
                .product(name: "SnapStorage", package: snapIdentity),
                .product(name: "SnapEngine", package: snapIdentity),
                .product(name: "SnapCore", package: snapIdentity),
            ],
            path: "Benchmarks/SnapBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
