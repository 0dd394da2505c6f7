// swift-tools-version: 6.1
import PackageDescription

import struct Foundation.URL

// Coverage-guided fuzzing of snap's decoders of untrusted bytes, with libFuzzer (which
// ships with the Swift toolchain on Linux). A separate package, like Benchmarks/, so that
// building or testing the main package never builds the fuzzer. See docs/fuzzing.md.
//
// Build from this directory (scripts/fuzz.sh does it):
//   swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -enable-testing
// `-enable-testing` lets the harness reach the internal decoders (`@testable import`);
// `-parse-as-library` because libFuzzer, not Swift, provides `main`.

// A package referenced by path is identified by its directory's name.
let snapIdentity = URL(fileURLWithPath: Context.packageDirectory)
    .deletingLastPathComponent()
    .lastPathComponent
    .lowercased()

let package = Package(
    name: "snap-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
    ],
    targets: [
        .target(name: "CFuzzDriver", path: "Sources/CFuzzDriver"),
        .executableTarget(
            name: "SnapFuzz",
            dependencies: [
                "CFuzzDriver",
                .product(name: "SnapRepository", package: snapIdentity),
                .product(name: "SnapEngine", package: snapIdentity),
                .product(name: "SnapRemote", package: snapIdentity),
                .product(name: "SnapStorage", package: snapIdentity),
                .product(name: "SnapCrypto", package: snapIdentity),
                .product(name: "SnapCore", package: snapIdentity),
            ],
            path: "Sources/SnapFuzz",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
