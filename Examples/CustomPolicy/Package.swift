// swift-tools-version: 6.1
// A package outside QoESim that imports the library, defines its own policy, runs it
// against the built-in ones, registers it in the policy catalog and sweeps its parameter
// from an experiment file:  swift run --package-path Examples/CustomPolicy
import Foundation
import PackageDescription

// A path dependency is named after its folder; the checkout's folder name varies.
let qoesimRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "CustomPolicyExample",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: qoesimRoot.path)],
    targets: [
        .executableTarget(
            name: "CustomPolicyExample",
            dependencies: [
                .product(name: "QoESim", package: qoesimRoot.lastPathComponent),
                .product(name: "QoESimExperiments", package: qoesimRoot.lastPathComponent),
            ]
        )
    ]
)
