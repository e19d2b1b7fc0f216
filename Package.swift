// swift-tools-version: 6.1
// QoESim: a discrete-event simulator of QoE-aware scheduling of deep-learning
// inference in containers (DQoES and its baselines).
import PackageDescription

let package = Package(
    name: "QoESim",
    platforms: [.macOS(.v13)],
    products: [
        // The library others import: `import QoESim` brings in the engine, cluster, workload,
        // latency models, policies and the simulation, and builds with Yams, swift-collections
        // and hdrhistogram-swift only (no GSL, OpenBLAS, SwiftNIO or swift-crypto).
        .library(name: "QoESim", targets: ["QoESim"]),
        // Sweeps, studies, summaries (GSL's t quantile), manifests (swift-crypto), figures.
        .library(name: "QoESimExperiments", targets: ["QoESimExperiments", "QoESimPlot"]),
        // Fitting latency models to profiles with GSL (libgsl-dev, libopenblas-dev).
        .library(name: "QoESimFit", targets: ["QoESimFit"]),
        .library(name: "QoESimArrivalFit", targets: ["QoESimArrivalFit"]),
        // The live adapter (Docker Engine API, NVML) as its own product: it brings SwiftNIO
        // and AsyncHTTPClient, which simulation-only users need not build.
        .library(name: "QoESimLive", targets: ["QoESimLive"]),
        // Profiling the real workload through the Docker Engine API, this machine's fits
        // (cached), and the validation campaign (live against simulated), as a library.
        .library(name: "QoESimValidation", targets: ["QoESimValidation"]),
        // The Engine API payload readers alone (no SwiftNIO): what the fuzz package links.
        .library(name: "QoESimDockerWire", targets: ["QoESimDockerWire"]),
        .executable(name: "qoesim", targets: ["QoESimCLI"]),
        // The real inference workload (ResNet-50, MobileNetV2, VGG-16, BERT-base on OpenBLAS).
        .executable(name: "qoesim-infer", targets: ["QoESimInferCLI"]),
        .executable(name: "qoesim-gpu-probe", targets: ["QoESimGPUProbe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        // The kernel: simulated clock, future-event list, seeded random streams. Knows
        // nothing about clusters.
        .target(name: "QoESimEngine"),
        // Readers for the project's input files (CSV, JSON/YAML) with file:line errors.
        .target(name: "QoESimInput", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Parametric latency models (amdahl, power, gpu) and per-request variability.
        .target(name: "QoESimLatency", dependencies: ["QoESimEngine", "QoESimInput"]),
        // Nodes, placement, CFS water-filling of CPU, GPU time slicing.
        .target(name: "QoESimCluster", dependencies: ["QoESimInput"]),
        // Jobs, job traces, request traces, arrival schedules, trace importers.
        .target(name: "QoESimWorkload", dependencies: ["QoESimEngine", "QoESimInput", "QoESimLatency"]),
        // The policy protocol and its implementations (one file each).
        .target(name: "QoESimPolicies", dependencies: ["QoESimLatency", "QoESimWorkload", "QoESimCluster"]),
        // The control loop, written once: tick schedule, observations, the policy call,
        // changes with their actuation delay, the allocation record, usage samples and
        // results, over a small plant protocol that the simulator and the live adapter
        // implement. The monitor (windows, HDR percentiles) lives here too.
        .target(
            name: "QoESimControl",
            dependencies: [
                "QoESimCluster", "QoESimWorkload", "QoESimPolicies",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The simulation that ties the above together (the simulated plant), and result output.
        .target(
            name: "QoESim",
            dependencies: [
                "QoESimEngine", "QoESimInput", "QoESimLatency", "QoESimCluster",
                "QoESimWorkload", "QoESimPolicies", "QoESimControl",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // GSL (least squares) with OpenBLAS serving its BLAS calls; Debian packages.
        .systemLibrary(name: "CGSL", path: "Sources/CGSL", providers: [.apt(["libgsl-dev", "libopenblas-dev"])]),
        // Fitting latency models to measured profiles.
        .target(name: "QoESimFit", dependencies: ["CGSL", "QoESimInput", "QoESimLatency"]),
        // Fitting arrival processes (Gamma renewal, MMPP) to request traces, judged on
        // their held-out half.
        .target(name: "QoESimArrivalFit", dependencies: ["CGSL", "QoESimWorkload"]),
        // Forward passes of real network architectures as OpenBLAS GEMMs (no Foundation).
        .target(name: "QoESimInference", dependencies: ["CGSL"]),
        .executableTarget(
            name: "QoESimInferCLI", dependencies: ["QoESimInference"],
            // Plain C stdio (stdout/stderr globals) for a Foundation-free static binary.
            swiftSettings: [.swiftLanguageMode(.v5)]),
        // GPU telemetry: NVML loaded at run time, per-process utilisation integrated into
        // GPU-seconds (no Foundation, no build-time NVIDIA dependency).
        .target(name: "QoESimGPU"),
        // A static probe of NVML for GPU machines without a Swift toolchain (Tests/GPU).
        .executableTarget(name: "QoESimGPUProbe", dependencies: ["QoESimGPU"], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Docker Engine API payloads (tar archives, log streams, import answers) read and
        // written without SwiftNIO, so that the fuzz package can reach them.
        .target(name: "QoESimDockerWire"),
        // The live adapter: the same policies against a real Docker engine (and NVML).
        // Neither GSL nor the experiments module: a live run needs the simulator's types only.
        .target(
            name: "QoESimLive",
            dependencies: [
                "QoESim", "QoESimGPU", "QoESimDockerWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // SVG figures (line charts with error bars, dot plots).
        .target(name: "QoESimPlot"),
        // Policy comparison, parameter sweeps (parallel, resumable, sharded), summaries
        // with confidence intervals, figures, the paper-8x reproduction.
        .target(
            name: "QoESimExperiments",
            dependencies: ["QoESim", "QoESimEngine", "QoESimPlot", "QoESimFit", .product(name: "Crypto", package: "swift-crypto")]),
        // Profiles (through the Engine API the live adapter speaks), the cache of this
        // machine's fits, and the validation campaign; the CLI only parses and prints.
        .target(
            name: "QoESimValidation",
            dependencies: [
                "QoESim", "QoESimLive", "QoESimGPU", "QoESimFit", "QoESimExperiments", "QoESimPlot", "QoESimDockerWire",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "QoESimCLI",
            dependencies: [
                "QoESim", "QoESimExperiments", "QoESimFit", "QoESimArrivalFit", "QoESimPlot", "QoESimLive", "QoESimGPU", "QoESimValidation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "QoESimTests",
            dependencies: ["QoESim", "QoESimExperiments", "QoESimPlot", "QoESimFit", "QoESimArrivalFit", "QoESimLive", "QoESimGPU", "QoESimValidation", "QoESimDockerWire", "CGSL", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
    ]
)
