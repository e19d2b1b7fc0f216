import Foundation
import Testing
import QoESimDockerWire
import QoESimGPU
import QoESimLive

/// The integration of NVML's per-process utilisation into per-container GPU-seconds
/// (`GPUSecondsIntegrator`), on recorded samples: NVML itself needs a GPU, and is checked
/// on one by Tests/GPU/nvml-check.sh (results in Tests/GPU/results/).
@Suite("GPU meter (NVML per-process utilisation to GPU-seconds)")
struct GPUMeterTests {
    static func sample(_ pid: UInt32, _ pct: UInt32, gpu: Int = 0) -> ProcessUtilization {
        ProcessUtilization(gpu: gpu, pid: pid, timeStampMicros: 0, smUtilPct: pct)
    }

    @Test("A container's GPU-seconds are its processes' mean utilisation times the interval, summed over its processes")
    func attribution() {
        var m = GPUSecondsIntegrator(containers: 2)
        let owner: [UInt32: Int] = [10: 0, 11: 0, 20: 1]
        m.advance(to: 1, samples: [Self.sample(10, 90)], containerOf: { owner[$0] })
        #expect(m.gpuSeconds == [0, 0], "the first call only starts the clock")
        // 2 s: pid 10 twice (80 and 60: mean 70 %), pid 11 once at 20 %, pid 20 at 50 % on GPU 1,
        // pid 99 (no container) at 30 %.
        m.advance(
            to: 3, samples: [Self.sample(10, 80), Self.sample(10, 60), Self.sample(11, 20), Self.sample(20, 50, gpu: 1), Self.sample(99, 30)],
            containerOf: { owner[$0] })
        #expect(abs(m.gpuSeconds[0] - (0.7 + 0.2) * 2) < 1e-12)
        #expect(abs(m.gpuSeconds[1] - 0.5 * 2) < 1e-12)
        #expect(abs(m.unattributedSeconds - 0.3 * 2) < 1e-12)
        #expect(m.lastGPU == [0, 1])
        // An interval without samples adds nothing (NVML lists only busy processes); a
        // reading over 100 % is capped; time going backwards adds nothing.
        m.advance(to: 4, samples: [], containerOf: { owner[$0] })
        #expect(abs(m.gpuSeconds[0] - 1.8) < 1e-12)
        m.advance(to: 5, samples: [Self.sample(20, 250, gpu: 1)], containerOf: { owner[$0] })
        #expect(abs(m.gpuSeconds[1] - 2.0) < 1e-12)
        m.advance(to: 4.5, samples: [Self.sample(20, 100, gpu: 1)], containerOf: { owner[$0] })
        #expect(abs(m.gpuSeconds[1] - 2.0) < 1e-12)
    }

    @Test("GPU-seconds never decrease and grow by at most interval x processes (random samples)")
    func bounds() {
        var rng = SystemRandomNumberGenerator()
        var m = GPUSecondsIntegrator(containers: 3)
        var t = 0.0
        var previous = m.gpuSeconds
        m.advance(to: t, samples: [], containerOf: { _ in nil })
        for _ in 0..<500 {
            let dt = Double.random(in: 0...2, using: &rng)
            t += dt
            let samples = (0..<Int.random(in: 0...6, using: &rng)).map { _ in
                Self.sample(UInt32.random(in: 1...4, using: &rng), UInt32.random(in: 0...120, using: &rng), gpu: Int.random(in: 0...1, using: &rng))
            }
            // pid k belongs to container k - 1 (pid 4: nobody's).
            m.advance(to: t, samples: samples, containerOf: { $0 <= 3 ? Int($0) - 1 : nil })
            for c in 0..<3 {
                let gpusUsed = Set(samples.filter { Int($0.pid) - 1 == c }.map(\.gpu)).count
                #expect(m.gpuSeconds[c] >= previous[c])
                #expect(m.gpuSeconds[c] - previous[c] <= dt * Double(gpusUsed) + 1e-9)
            }
            previous = m.gpuSeconds
        }
    }

    @Test("The PID column of Docker's /top answer; other answers are errors, never traps")
    func topPIDs() throws {
        let answer = """
            {"Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
             "Processes": [["root", "4242", "4220", "0", "10:00", "?", "00:00:01", "/qoesim-infer serve"], ["root", "4250", "4242", "0", "10:00", "?", "00:00:00", "sh"]]}
            """
        #expect(try EngineAnswer.processIDs(Data(answer.utf8)) == [4242, 4250])
        #expect(try EngineAnswer.processIDs(Data(#"{"Titles": ["UID"], "Processes": [["root"]]}"#.utf8)) == [])
        #expect(try EngineAnswer.processIDs(Data(#"{"Titles": ["PID"], "Processes": [[]]}"#.utf8)) == [])
        for bad in ["", "[", "{\"Titles\": 3}", "null", "{\"Processes\": [[\"1\"]]}"] {
            #expect(throws: WireFormatError.self, "\(bad)") { try EngineAnswer.processIDs(Data(bad.utf8)) }
        }
    }
}
