// swift-tools-version: 6.1
// QoESim's benchmarks (ordo-one/benchmark), a package of their own so that the main
// package and its CI do not build the benchmark harness.
//
//   cd Benchmarks && swift package benchmark          # all benchmarks
//   cd Benchmarks && swift package benchmark --filter "engine.*"
import PackageDescription

let package = Package(
    name: "QoESimBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "QoESim", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "QoESimBenchmarks",
            dependencies: [
                .product(name: "QoESim", package: "QoESim"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/QoESimBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
