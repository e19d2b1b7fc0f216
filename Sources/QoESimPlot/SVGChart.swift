import Foundation

/// A small, dependency-free SVG chart: lines and/or markers with optional error bars,
/// a legend, axis ticks, an optional log-scale y axis and horizontal reference lines.
/// Enough for the figures QoESim writes; the output is plain SVG 1.1 that browsers,
/// Inkscape and LaTeX (via svg/inkscape) read.
public struct SVGChart: Sendable {
    /// One data series.
    public struct Series: Sendable {
        public var name: String
        public var points: [Point]
        public var line: Bool
        public var markers: Bool
        /// Draw the line as steps (value holds until the next point), e.g. allocations.
        public var step: Bool
        public var dashed: Bool
        /// Palette index to use instead of the series' position (pairs share a colour).
        public var colorIndex: Int?

        public init(name: String, points: [Point], line: Bool = true, markers: Bool = true, step: Bool = false, dashed: Bool = false, colorIndex: Int? = nil) {
            self.colorIndex = colorIndex
            self.name = name
            self.points = points
            self.line = line
            self.markers = markers
            self.step = step
            self.dashed = dashed
        }
    }

    /// A point with an optional symmetric error bar (e.g. a 95% CI half-width).
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var error: Double?

        public init(x: Double, y: Double, error: Double? = nil) {
            self.x = x
            self.y = y
            self.error = error
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width: Double = 720
    public var height: Double = 440
    public var logY = false
    /// Fixed y range (default: from the data, including 0 on linear axes).
    public var yRange: ClosedRange<Double>? = nil
    /// Labels for x positions instead of numeric ticks (categorical axes).
    public var xTickLabels: [(Double, String)]? = nil
    /// Horizontal reference lines (y, label).
    public var referenceLines: [(Double, String)] = []
    /// Show at most this many series in the legend.
    public var legendLimit = 12

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Okabe-Ito palette (colour-blind safe) first, then further distinct colours for
    /// charts with many series.
    static let palette = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999", "#8C564B",
        "#1F3A93", "#B22222", "#2E8B57", "#9467BD", "#BCBD22", "#17BECF", "#FF7F0E", "#7F7F7F", "#C49C94", "#393B79",
    ]

    public static func color(_ i: Int) -> String { palette[i % palette.count] }

    /// "Nice" tick values covering [lo, hi].
    public static func ticks(_ lo: Double, _ hi: Double, target: Int = 6) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(target)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        var s = String(format: "%.3g", v)
        if s.contains("e") { s = String(format: "%g", v) }
        return s
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The SVG document.
    /// The comment every figure qoesim draws carries (its second line), by which a figure
    /// file is known to be qoesim's (and may be replaced without --force).
    public static let signature = "<!-- drawn by qoesim -->"

    public func render() -> String {
        let rotated = (xTickLabels?.count ?? 0) > 8
        // The legend's column is as wide as its longest name needs (about 7 px a character).
        let longestName = series.prefix(legendLimit).map(\.name.count).max() ?? 0
        let left = 70.0, right = max(180.0, 7.0 * Double(longestName) + 40), top = 40.0, bottom = rotated ? 120.0 : 60.0
        let pw = width - left - right, ph = height - top - bottom
        let pts = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
        var xlo = pts.map(\.x).min() ?? 0, xhi = pts.map(\.x).max() ?? 1
        if let labels = xTickLabels, !labels.isEmpty {
            xlo = min(xlo, labels.map(\.0).min()!)
            xhi = max(xhi, labels.map(\.0).max()!)
        }
        if xhi <= xlo { xhi = xlo + 1 }
        let xpad = (xhi - xlo) * 0.03
        xlo -= xpad
        xhi += xpad
        var ylo: Double, yhi: Double
        if let r = yRange {
            ylo = r.lowerBound
            yhi = r.upperBound
        } else {
            let ys = pts.flatMap { [$0.y - ($0.error ?? 0), $0.y + ($0.error ?? 0)] } + referenceLines.map(\.0)
            ylo = ys.min() ?? 0
            yhi = ys.max() ?? 1
            if logY {
                ylo = pow(10, floor(log10(max(ylo, 1e-12))))
                yhi = pow(10, ceil(log10(max(yhi, ylo * 10))))
            } else {
                ylo = min(0, ylo)
                yhi = yhi <= ylo ? ylo + 1 : yhi * 1.05
            }
        }
        func fy(_ y: Double) -> Double {
            let v = logY ? (log10(max(y, 1e-300)) - log10(ylo)) / (log10(yhi) - log10(ylo)) : (y - ylo) / (yhi - ylo)
            return top + ph * (1 - v)
        }
        func fx(_ x: Double) -> Double { left + pw * (x - xlo) / (xhi - xlo) }
        func n(_ v: Double) -> String { String(format: "%.2f", v) }

        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        \(SVGChart.signature)
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(n(left + pw / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(SVGChart.escape(title))</text>

        """
        // Grid and ticks.
        let yticks: [Double] = logY
            ? stride(from: log10(ylo), through: log10(yhi) + 1e-9, by: 1).map { pow(10, $0) }
            : SVGChart.ticks(ylo, yhi)
        for t in yticks where t >= ylo - 1e-12 && t <= yhi + 1e-12 {
            s += "<line x1=\"\(n(left))\" y1=\"\(n(fy(t)))\" x2=\"\(n(left + pw))\" y2=\"\(n(fy(t)))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(n(left - 6))\" y=\"\(n(fy(t) + 4))\" text-anchor=\"end\">\(SVGChart.label(t))</text>\n"
        }
        let xticks: [(Double, String)] = xTickLabels ?? SVGChart.ticks(xlo + xpad, xhi - xpad).map { ($0, SVGChart.label($0)) }
        for (t, lab) in xticks {
            s += "<line x1=\"\(n(fx(t)))\" y1=\"\(n(top + ph))\" x2=\"\(n(fx(t)))\" y2=\"\(n(top + ph + 5))\" stroke=\"#333\"/>\n"
            if rotated {
                s += "<text transform=\"translate(\(n(fx(t) + 3)),\(n(top + ph + 10))) rotate(45)\" font-size=\"9\">\(SVGChart.escape(lab))</text>\n"
            } else {
                s += "<text x=\"\(n(fx(t)))\" y=\"\(n(top + ph + 20))\" text-anchor=\"middle\">\(SVGChart.escape(lab))</text>\n"
            }
        }
        s += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(height - 12))\" text-anchor=\"middle\">\(SVGChart.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18,\(n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(SVGChart.escape(yLabel))</text>\n"
        for (y, lab) in referenceLines where y >= ylo && y <= yhi {
            s += "<line x1=\"\(n(left))\" y1=\"\(n(fy(y)))\" x2=\"\(n(left + pw))\" y2=\"\(n(fy(y)))\" stroke=\"#444\" stroke-dasharray=\"6,4\"/>\n"
            s += "<text x=\"\(n(left + pw - 4))\" y=\"\(n(fy(y) - 4))\" text-anchor=\"end\" fill=\"#444\">\(SVGChart.escape(lab))</text>\n"
        }
        // Series.
        for (i, ser) in series.enumerated() {
            let color = SVGChart.color(ser.colorIndex ?? i)
            let ok = ser.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
            s += "<g class=\"series\" data-name=\"\(SVGChart.escape(ser.name))\">\n"
            if ser.line && ok.count > 1 {
                var coords: [String] = []
                for (k, p) in ok.enumerated() {
                    if ser.step && k > 0 { coords.append("\(n(fx(p.x))),\(n(fy(ok[k - 1].y)))") }
                    coords.append("\(n(fx(p.x))),\(n(fy(p.y)))")
                }
                let dash = ser.dashed ? " stroke-dasharray=\"5,3\"" : ""
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"\(dash) points=\"\(coords.joined(separator: " "))\"/>\n"
            }
            for p in ok {
                if let e = p.error, e > 0 {
                    let y1 = fy(logY ? max(p.y - e, ylo) : p.y - e), y2 = fy(p.y + e)
                    s += "<line x1=\"\(n(fx(p.x)))\" y1=\"\(n(y1))\" x2=\"\(n(fx(p.x)))\" y2=\"\(n(y2))\" stroke=\"\(color)\"/>\n"
                    for yy in [y1, y2] {
                        s += "<line x1=\"\(n(fx(p.x) - 4))\" y1=\"\(n(yy))\" x2=\"\(n(fx(p.x) + 4))\" y2=\"\(n(yy))\" stroke=\"\(color)\"/>\n"
                    }
                }
                if ser.markers {
                    s += "<circle class=\"point\" cx=\"\(n(fx(p.x)))\" cy=\"\(n(fy(p.y)))\" r=\"3.2\" fill=\"\(color)\"/>\n"
                }
            }
            s += "</g>\n"
        }
        // Legend.
        for (i, ser) in series.prefix(legendLimit).enumerated() {
            let y = top + 14 + Double(i) * 18
            s += "<line x1=\"\(n(left + pw + 12))\" y1=\"\(n(y - 4))\" x2=\"\(n(left + pw + 32))\" y2=\"\(n(y - 4))\" stroke=\"\(SVGChart.color(ser.colorIndex ?? i))\" stroke-width=\"2.5\"\(ser.dashed ? " stroke-dasharray=\"5,3\"" : "")/>\n"
            s += "<text x=\"\(n(left + pw + 38))\" y=\"\(n(y))\">\(SVGChart.escape(ser.name))</text>\n"
        }
        if series.count > legendLimit {
            s += "<text x=\"\(n(left + pw + 12))\" y=\"\(n(top + 14 + Double(legendLimit) * 18))\" fill=\"#666\">+\(series.count - legendLimit) more</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}

extension SVGChart {
    /// The chart's data, one row per plotted point: `series,x,y,error` (error empty when
    /// the point has none), after a `#` line naming the axes. Written beside every figure.
    public var dataCSV: String {
        func cell(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var s = "# drawn by qoesim: \(title.replacingOccurrences(of: "\n", with: " ")); x: \(xLabel); y: \(yLabel)\nseries,x,y,error\n"
        for series in self.series {
            for p in series.points { s += "\(cell(series.name)),\(p.x),\(p.y),\(p.error.map { "\($0)" } ?? "")\n" }
        }
        return s
    }
}
