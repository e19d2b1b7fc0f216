import Foundation
import QoESimInput

/// How a job's requests arrive.
///
/// Every open-loop process that draws its times (all but `closed` and `trace`) has the
/// job's `rate_rps` as its long-run mean rate, so a job's `load` means the same thing
/// under each, and "load x k" multiplies the rate by k while keeping the process's shape:
/// the same cv (Gamma, Weibull), the same dwell times (MMPP: the state rates are scaled,
/// bursts keep their length), the same profile over time (time-varying rates).
///
/// Written in a job trace's `arrivals` cell (and a generator's `arrivals` parameter) as a
/// name and `key=value` parameters separated by blanks (``parse(_:context:relativeTo:cache:)``,
/// ``text``): `poisson`, `closed`, `trace`, `gamma cv=4`, `weibull shape=0.6`,
/// `mmpp file=bursts.csv` (an ``MMPP`` parameters file, relative to the trace's folder),
/// `sinusoid amplitude=0.5 period_s=600 phase_s=0`, `piecewise file=rates.csv` (a
/// ``RateProfile`` file).
public enum ArrivalProcess: Sendable, Equatable {
    /// Open loop: Poisson arrivals at `rate_rps` (exponential gaps, cv 1).
    case poisson
    /// Closed loop: each of the job's `workers` clients sends the next request when its
    /// previous one completes (a batch inference job over a data set).
    case closed
    /// Replayed from a request trace (`--requests FILE`).
    case trace
    /// A renewal process with Gamma inter-arrival times of mean 1 / rate and this
    /// coefficient of variation (cv 1 is Poisson; above 1, bursty).
    case gamma(cv: Double)
    /// A renewal process with Weibull inter-arrival times of mean 1 / rate and this shape
    /// (shape 1 is Poisson; below 1, bursty: cv = sqrt(G(1+2/k) / G(1+1/k)^2 - 1)).
    case weibull(shape: Double)
    /// A Markov-modulated Poisson process, its state rates scaled to the job's mean rate.
    indirect case mmpp(MMPP, file: String)
    /// A Poisson process whose rate varies over the job's time: rate x profile(t), t
    /// from the job's start.
    indirect case varying(RateProfile)

    /// The names of the processes, as written in a trace.
    public static let names = ["poisson", "closed", "trace", "gamma", "weibull", "mmpp", "sinusoid", "piecewise"]

    /// The process's name (`poisson`, `gamma`, `sinusoid`, ...).
    public var name: String {
        switch self {
        case .poisson: "poisson"
        case .closed: "closed"
        case .trace: "trace"
        case .gamma: "gamma"
        case .weibull: "weibull"
        case .mmpp: "mmpp"
        case .varying(.sinusoid): "sinusoid"
        case .varying(.piecewise): "piecewise"
        }
    }

    /// Whether the process draws its arrival times from the job's rate (everything but a
    /// closed loop and a replayed trace).
    public var drawsArrivals: Bool {
        switch self {
        case .closed, .trace: false
        default: true
        }
    }

    /// Same process: same name, same parameters (an MMPP's or a profile's file name included).
    public static func == (a: ArrivalProcess, b: ArrivalProcess) -> Bool {
        switch (a, b) {
        case (.poisson, .poisson), (.closed, .closed), (.trace, .trace): return true
        case (.gamma(let x), .gamma(let y)): return x == y
        case (.weibull(let x), .weibull(let y)): return x == y
        case (.mmpp(let m, let f), .mmpp(let n, let g)): return f == g && m == n
        case (.varying(let p), .varying(let q)): return p == q
        default: return false
        }
    }

    /// Whether the job replays a request trace.
    public var isTrace: Bool { if case .trace = self { true } else { false } }

    /// Whether the job is a closed loop.
    public var isClosed: Bool { if case .closed = self { true } else { false } }

    /// The text form, as ``parse(_:context:relativeTo:cache:)`` reads it (file parameters as
    /// they were written).
    public var text: String {
        switch self {
        case .poisson, .closed, .trace: name
        case .gamma(let cv): "gamma cv=\(cv)"
        case .weibull(let k): "weibull shape=\(k)"
        case .mmpp(_, let file): "mmpp file=\(file)"
        case .varying(.sinusoid(let a, let p, let phase)): "sinusoid amplitude=\(a) period_s=\(p) phase_s=\(phase)"
        case .varying(.piecewise(_, _, let file)): "piecewise file=\(file)"
        }
    }

    /// Reads the text form. Files named in it (`file=`) are read relative to `folder`
    /// (the trace's own folder); `cache` keeps files read once per trace.
    public static func parse(
        _ text: String, context ctx: FieldContext, relativeTo folder: String, cache: inout [String: ArrivalProcess]
    ) throws -> ArrivalProcess {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let name = words.first else { throw ctx.error("value is missing") }
        guard names.contains(name) else { throw ctx.error("'\(name)' is not one of \(names.joined(separator: ", "))") }
        var parameters: [String: String] = [:]
        for w in words.dropFirst() {
            let kv = w.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else { throw ctx.error("'\(w)' is not a key=value parameter of \(name)") }
            guard parameters[kv[0]] == nil else { throw ctx.error("\(name): parameter \(kv[0]) given twice") }
            parameters[kv[0]] = kv[1]
        }
        func take(_ key: String) throws -> String {
            guard let v = parameters.removeValue(forKey: key) else { throw ctx.error("\(name) needs \(key)=...") }
            return v
        }
        // A number checked against its documented limit (InputLimits: `gamma_cv`, ...).
        func limited(_ key: String, positive: Bool) throws -> Double {
            let c = FieldContext(file: ctx.file, line: ctx.line, column: "\(ctx.column).\(name)_\(key)")
            return positive ? try c.positive(try take(key)) : try c.nonNegative(try take(key))
        }
        let process: ArrivalProcess
        switch name {
        case "poisson": process = .poisson
        case "closed": process = .closed
        case "trace": process = .trace
        case "gamma": process = .gamma(cv: try limited("cv", positive: true))
        case "weibull": process = .weibull(shape: try limited("shape", positive: true))
        case "mmpp", "piecewise":
            let file = try take("file")
            let path = file.hasPrefix("/") || folder.isEmpty ? file : folder + "/" + file
            let key = name + " " + path
            if let known = cache[key] {
                process = known.renamed(file: file)
            } else {
                process = name == "mmpp"
                    ? .mmpp(try MMPP.load(path), file: file)
                    : .varying(try RateProfile.loadPiecewise(path, file: file))
                cache[key] = process
            }
        case "sinusoid":
            let a = try limited("amplitude", positive: false)
            let p = try limited("period_s", positive: true)
            let phase = parameters["phase_s"] == nil ? 0 : try limited("phase_s", positive: false)
            process = .varying(.sinusoid(amplitude: a, period: p, phase: phase))
        default: fatalError("unreachable: \(name) is in names")
        }
        if let extra = parameters.keys.sorted().first { throw ctx.error("\(name) has no parameter '\(extra)'") }
        return process
    }

    /// The parameters file the process was read from (as named in its text form) and its
    /// content as the process writes it; nil for processes without one.
    public var parameterFile: (name: String, text: String)? {
        switch self {
        case .mmpp(let m, let f): (f, m.csv)
        case .varying(let p): if case .piecewise(_, _, let f) = p, let text = p.csv { (f, text) } else { nil }
        default: nil
        }
    }

    /// The same process with its parameters file named `file` (e.g. when written beside
    /// a generated trace).
    public func renamed(file: String) -> ArrivalProcess {
        switch self {
        case .mmpp(let m, _): .mmpp(m, file: file)
        case .varying(.piecewise(let s, let m, _)): .varying(.piecewise(starts: s, multipliers: m, file: file))
        default: self
        }
    }
}

/// How the rate of a time-varying Poisson process moves over a job's time: the rate at t
/// seconds after the job's start is the job's `rate_rps` times ``multiplier(at:)``.
public enum RateProfile: Sendable, Equatable {
    /// 1 + amplitude x sin(2 pi (t + phase) / period), amplitude in [0, 1]: its mean over
    /// whole periods is 1, so `rate_rps` is the mean rate.
    case sinusoid(amplitude: Double, period: Double, phase: Double)
    /// Constant pieces: `multipliers[i]` from `starts[i]` (the first is 0) to the next
    /// start; the last holds to the job's end. Read from a file with columns
    /// `start_s,multiplier`.
    case piecewise(starts: [Double], multipliers: [Double], file: String)

    /// The factor on the job's rate at `t` seconds after its start.
    public func multiplier(at t: Double) -> Double {
        switch self {
        case .sinusoid(let a, let p, let phase): return 1 + a * sin(2 * Double.pi * (t + phase) / p)
        case .piecewise(let starts, let m, _):
            var lo = 0, hi = starts.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if starts[mid] <= t { lo = mid } else { hi = mid - 1 }
            }
            return m[lo]
        }
    }

    /// The integral of the multiplier from 0 to `t`: a job of rate r and duration t
    /// expects r x integral(to: t) requests.
    public func integral(to t: Double) -> Double {
        switch self {
        case .sinusoid(let a, let p, let phase):
            let w = 2 * Double.pi / p
            return t + a / w * (cos(w * phase) - cos(w * (t + phase)))
        case .piecewise(let starts, let m, _):
            var sum = 0.0
            for i in starts.indices where starts[i] < t {
                let b = i + 1 < starts.count ? min(starts[i + 1], t) : t
                sum += m[i] * (b - starts[i])
            }
            return sum
        }
    }

    /// The largest multiplier (the thinning bound of the sinusoid).
    public var peak: Double {
        switch self {
        case .sinusoid(let a, _, _): 1 + a
        case .piecewise(_, let m, _): m.max() ?? 0
        }
    }

    /// Reads a piecewise profile (`start_s,multiplier`, starts increasing from 0).
    public static func loadPiecewise(_ path: String, file: String) throws -> RateProfile {
        try parsePiecewise(TextFile.read(path), file: path, named: file)
    }

    /// Reads a piecewise profile held in memory (`path` names it in errors).
    public static func parsePiecewise(_ bytes: [UInt8], file path: String, named file: String) throws -> RateProfile {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let col = try table.columnIndex(required: ["start_s", "multiplier"], optional: [])
        guard !table.rows.isEmpty else { throw InputError(file: path, line: table.headerLine, "the rate profile has no rows") }
        var starts: [Double] = [], m: [Double] = []
        for row in table.rows {
            func ctx(_ c: String) -> FieldContext { FieldContext(file: path, line: row.line, column: c) }
            let s = try ctx("start_s").nonNegative(row.fields[col["start_s"]!])
            if starts.isEmpty {
                guard s == 0 else { throw ctx("start_s").error("the first piece must start at 0, got \(s)") }
            } else if s <= starts.last! {
                throw ctx("start_s").error("starts must increase: \(s) after \(starts.last!)")
            }
            starts.append(s)
            m.append(try ctx("multiplier").nonNegative(row.fields[col["multiplier"]!]))
        }
        guard m.contains(where: { $0 > 0 }) else { throw InputError(file: path, line: table.headerLine, "every multiplier is 0: the job sends nothing") }
        return .piecewise(starts: starts, multipliers: m, file: file)
    }

    /// The profile's file text (`start_s,multiplier`); nil for a sinusoid.
    public var csv: String? {
        guard case .piecewise(let s, let m, _) = self else { return nil }
        return "start_s,multiplier\n" + zip(s, m).map { "\($0),\($1)\n" }.joined()
    }
}
