// swift-tools-version:6.0
import Foundation
import PackageDescription

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tollgate", targets: ["tollgate"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C shims: libcurl's variadic setopt/getinfo and OpenSSL's digests are wrapped in typed
        // inline functions, as GRDB's GRDBSQLite/shim.h does for SQLite.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "TollgateCore",
            dependencies: [
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TollgateUpstream",
            dependencies: [
                "CCurl",
                "TollgateCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TollgateStorage",
            dependencies: [
                "TollgateCore",
                "CSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TollgateServer",
            dependencies: [
                "TollgateCore",
                "TollgateStorage",
                "TollgateUpstream",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "tollgate",
            dependencies: [
                "TollgateServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TollgateCoreTests", dependencies: ["TollgateCore"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TollgateStorageTests",
            dependencies: [
                "TollgateCore", "TollgateStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Writer-only benchmark: `swift run -c release WriterBench` (see docs/benchmarks.md).
        .executableTarget(
            name: "WriterBench",
            dependencies: ["TollgateCore", "TollgateStorage", .product(name: "Logging", package: "swift-log")],
            path: "bench/writer_bench"
        ),
        // CPU per request of SigV4 signing and Vertex's RS256 assertion: bench/signing.sh.
        .executableTarget(name: "SigningBench", dependencies: ["TollgateCore"], path: "bench/signing_bench"),
        // Slow-upstream mock for bench/concurrency.sh (answers after --delay-ms).
        .executableTarget(
            name: "DelayMock",
            dependencies: [.product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")],
            path: "bench/delay_mock"
        ),
        .testTarget(
            name: "TollgateUpstreamTests",
            dependencies: [
                "TollgateUpstream",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "TollgateServerTests",
            dependencies: [
                "TollgateServer", "TollgateCore", "TollgateStorage", "TollgateUpstream",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
    ]
)

// libFuzzer targets (Fuzz/, docs/fuzzing.md): only with TOLLGATE_FUZZ=1, since they link only
// under `-sanitize=fuzzer`. `make fuzz` builds and runs them.
if ProcessInfo.processInfo.environment["TOLLGATE_FUZZ"] == "1" {
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["TollgateCore"], path: "Fuzz/FuzzSupport"))
    for name in ["FuzzRequestBody", "FuzzStreamMeter", "FuzzUsageParser", "FuzzPricing"] {
        package.targets.append(.executableTarget(name: name, dependencies: ["FuzzSupport", "TollgateCore"], path: "Fuzz/\(name)"))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
