import Foundation

/// A table of values as coloured cells (an SVG document), each cell labelled with its
/// text; a cell without a value is drawn grey.
///
/// Colour: a diverging scale on log2 of the value around `neutral` (blue above, orange
/// below, white at it), saturating at `neutral x 2^span` and `neutral / 2^span`.
public struct SVGHeatMap: Sendable {
    public struct Cell: Sendable, Equatable {
        public var row: Int
        public var column: Int
        /// The value the colour shows (nil: no value).
        public var value: Double?
        /// Up to two lines of text.
        public var text: [String]

        public init(row: Int, column: Int, value: Double?, text: [String]) {
            self.row = row
            self.column = column
            self.value = value
            self.text = text
        }
    }

    public var title: String
    public var rowLabel: String
    public var columnLabel: String
    public var rows: [String]
    public var columns: [String]
    public var cells: [Cell]
    public var neutral = 1.0
    public var span = 3.0
    /// A note under the map.
    public var caption = ""

    public init(title: String, rowLabel: String, columnLabel: String, rows: [String], columns: [String], cells: [Cell]) {
        self.title = title
        self.rowLabel = rowLabel
        self.columnLabel = columnLabel
        self.rows = rows
        self.columns = columns
        self.cells = cells
    }

    /// Fill colour of a value.
    public func color(_ value: Double?) -> String {
        guard let v = value, v > 0, v.isFinite else { return "#d9d9d9" }
        let t = max(-1, min(1, log2(v / neutral) / span))
        // White to blue (#0072B2) above, white to orange (#D55E00) below.
        let (r, g, b) = t >= 0 ? (0.0, 114.0, 178.0) : (213.0, 94.0, 0.0)
        let a = abs(t)
        func mix(_ c: Double) -> Int { Int((255 + (c - 255) * a).rounded()) }
        return String(format: "#%02X%02X%02X", mix(r), mix(g), mix(b))
    }

    public func render() -> String {
        let cw = 120.0, ch = 48.0, left = 110.0, top = 70.0
        let longest = Double(max(title.count, caption.count * 2 / 3))
        let width = max(left + cw * Double(columns.count) + 30, longest * 8 + 40), height = top + ch * Double(rows.count) + 70
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + SVGChart.signature + "\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(Int(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(SVGChart.escape(title))</text>\n"
        s += "<text x=\"\(Int(left + cw * Double(columns.count) / 2))\" y=\"44\" text-anchor=\"middle\" font-size=\"12\">\(SVGChart.escape(columnLabel))</text>\n"
        for (k, c) in columns.enumerated() {
            s += "<text x=\"\(Int(left + cw * (Double(k) + 0.5)))\" y=\"62\" text-anchor=\"middle\" font-size=\"12\">\(SVGChart.escape(c))</text>\n"
        }
        s += "<text x=\"14\" y=\"\(Int(top + ch * Double(rows.count) / 2))\" font-size=\"12\" transform=\"rotate(-90 14 \(Int(top + ch * Double(rows.count) / 2)))\" text-anchor=\"middle\">\(SVGChart.escape(rowLabel))</text>\n"
        for (k, r) in rows.enumerated() {
            s += "<text x=\"\(Int(left - 8))\" y=\"\(Int(top + ch * (Double(k) + 0.5) + 4))\" text-anchor=\"end\" font-size=\"12\">\(SVGChart.escape(r))</text>\n"
        }
        for cell in cells {
            let x = left + cw * Double(cell.column), y = top + ch * Double(cell.row)
            s += "<rect x=\"\(Int(x))\" y=\"\(Int(y))\" width=\"\(Int(cw))\" height=\"\(Int(ch))\" fill=\"\(color(cell.value))\" stroke=\"white\"/>\n"
            for (l, line) in cell.text.prefix(2).enumerated() {
                let ty = y + (cell.text.count > 1 ? 20 + 16 * Double(l) : 29)
                s += "<text x=\"\(Int(x + cw / 2))\" y=\"\(Int(ty))\" text-anchor=\"middle\" font-size=\"\(l == 0 ? 13 : 10)\">\(SVGChart.escape(line))</text>\n"
            }
        }
        if !caption.isEmpty {
            s += "<text x=\"10\" y=\"\(Int(height - 16))\" font-size=\"10\">\(SVGChart.escape(caption))</text>\n"
        }
        return s + "</svg>\n"
    }
}
