// swift-tools-version: 6.1
// libFuzzer targets for every QoESim reader, and one that parses then simulates.
// Built and run by Tests/Fuzz/run.sh (it passes -sanitize=fuzzer,address); see README.md.
import Foundation
import PackageDescription

// A path dependency is named after its folder; the checkout's folder name varies.
let qoesimRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let qoesim = qoesimRoot.lastPathComponent

let package = Package(
    name: "QoESimFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: qoesimRoot.path)],
    targets: [
        .executableTarget(
            name: "QoESimFuzz",
            dependencies: [
                .product(name: "QoESim", package: qoesim),
                .product(name: "QoESimExperiments", package: qoesim),
                .product(name: "QoESimFit", package: qoesim),
                .product(name: "QoESimDockerWire", package: qoesim),
            ]
        )
    ]
)
