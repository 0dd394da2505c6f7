// swift-tools-version: 6.1
import PackageDescription

// Layers, bottom to top; each module imports only modules above it in this list.
//   C system libraries: CZstd, CZlib, COpenSSL, CCurl (headers only: CCurlShim loads libcurl with
//                       dlopen at the first remote transfer and gives typed front ends for
//                       its variadic calls), CPosix (headers Glibc's module lacks)
//   thin wrappers:      SnapCompression, SnapCrypto
//   core types:         SnapCore (and the CPU count a process may use, through CPosix)
//   primitives:         SnapChunker
//   thin wrappers:      SnapHTTP (libcurl transfers: HTTP(S) and SFTP)
//   storage:            SnapStorage (the Backend protocol, local and in-memory backends, decorators)
//   remote providers:   SnapRemote (S3, SFTP, REST over SnapHTTP)
//   repository format:  SnapRepository (keys, config, blobs, packs, index)
//   foreign formats:    SnapRestic (read-only reader of restic repositories, versions 1 and 2,
//                       over the same Backend protocol; beside SnapRepository, below the engine)
//   engine:             SnapEngine (trees, snapshots, backup, restore, the snapshot file system)
//   FUSE adapter:       SnapFUSE over CFuseShim (libfuse3 loaded with dlopen by `snap mount`)
//   composition:        SnapComposition (location string -> backend stack)
//   CLI:                snap
let package = Package(
    name: "snap",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "snap", targets: ["snap"]),
        .library(name: "SnapEngine", targets: ["SnapEngine"]),
        .library(name: "SnapRepository", targets: ["SnapRepository"]),
        .library(name: "SnapRestic", targets: ["SnapRestic"]),
        .library(name: "SnapChunker", targets: ["SnapChunker"]),
        .library(name: "SnapCrypto", targets: ["SnapCrypto"]),
        .library(name: "SnapCompression", targets: ["SnapCompression"]),
        .library(name: "SnapStorage", targets: ["SnapStorage"]),
        .library(name: "SnapRemote", targets: ["SnapRemote"]),
        .library(name: "SnapCore", targets: ["SnapCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPosix"),
        // No pkgConfig: it would link libcurl, which CCurlShim loads only when needed.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        // Needs libfuse3's headers to build (libfuse3-dev) and loads libfuse3 with dlopen at mount time.
        .target(name: "CFuseShim", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "SnapCompression", dependencies: ["CZstd", "CZlib"]),
        .target(name: "SnapCrypto", dependencies: ["COpenSSL"]),
        .target(name: "SnapHTTP", dependencies: ["CCurlShim"]),
        .target(name: "SnapCore", dependencies: ["CPosix"]),
        .target(name: "SnapChunker", dependencies: ["SnapCore"]),
        .target(name: "SnapStorage", dependencies: ["SnapCore"]),
        .target(name: "SnapRemote", dependencies: ["SnapCore", "SnapStorage", "SnapHTTP", "SnapCrypto"]),
        .target(name: "SnapRepository", dependencies: ["CPosix", "SnapCore", "SnapCrypto", "SnapCompression", "SnapStorage", "SnapChunker"]),
        .target(name: "SnapRestic", dependencies: ["SnapCore", "SnapCrypto", "SnapCompression", "SnapStorage"]),
        .target(name: "SnapEngine", dependencies: ["CPosix", "SnapCore", "SnapCrypto", "SnapCompression", "SnapRepository", "SnapChunker", "SnapStorage", "SnapRestic"]),
        .target(name: "SnapFUSE", dependencies: ["CFuseShim", "SnapCore", "SnapEngine"]),
        .target(name: "SnapComposition", dependencies: ["SnapCore", "SnapCrypto", "SnapStorage", "SnapHTTP", "SnapRemote", "SnapRepository", "CPosix"]),
        .executableTarget(name: "snap", dependencies: [
            "CPosix", "SnapComposition", "SnapEngine", "SnapRepository", "SnapStorage", "SnapCore", "SnapChunker", "SnapCrypto", "SnapCompression",
            "SnapHTTP", "SnapRemote", "SnapRestic", "SnapFUSE",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "SnapTestSupport", dependencies: ["SnapCore", "SnapStorage"], path: "Tests/SnapTestSupport"),
        .testTarget(name: "SnapCryptoTests", dependencies: ["SnapCrypto"]),
        .testTarget(name: "SnapCompressionTests", dependencies: ["SnapCompression", "SnapTestSupport"]),
        .testTarget(name: "SnapCoreTests", dependencies: ["SnapCore"]),
        .testTarget(name: "SnapChunkerTests", dependencies: ["SnapChunker", "SnapCore", "SnapTestSupport"]),
        .testTarget(name: "SnapStorageTests", dependencies: ["SnapStorage", "SnapCore", "SnapCrypto", "SnapTestSupport"]),
        .testTarget(name: "SnapHTTPTests", dependencies: ["SnapHTTP", "CCurlShim", "SnapTestSupport"]),
        .testTarget(name: "SnapRemoteTests", dependencies: ["SnapRemote", "SnapStorage", "SnapCrypto", "SnapTestSupport"]),
        .testTarget(name: "SnapRepositoryTests", dependencies: ["SnapRepository", "SnapStorage", "SnapCrypto", "SnapChunker", "SnapTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "SnapResticTests", dependencies: ["SnapRestic", "SnapStorage", "SnapCore", "SnapCrypto", "SnapTestSupport", "CPosix"]),
        .testTarget(name: "SnapEngineTests", dependencies: ["CPosix", "SnapEngine", "SnapRepository", "SnapRestic", "SnapStorage", "SnapTestSupport"]),
        .testTarget(name: "SnapCLITests", dependencies: ["SnapTestSupport", "CPosix"], exclude: ["Shims"]),
    ]
)

for target in package.targets where target.type != .system && !["CCurlShim", "CFuseShim"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    target.swiftSettings = settings
}
