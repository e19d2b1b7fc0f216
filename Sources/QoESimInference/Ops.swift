import CGSL
import Glibc

/// A float buffer allocated once and reused (no allocation per inference).
public final class Buffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = max(count, 1)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    deinit { pointer.deallocate() }
}

/// Deterministic pseudo-random weights (He-uniform: variance 2 / fan_in), so that
/// activations keep their scale through deep networks and never become denormal.
struct WeightFiller {
    var state: UInt64

    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Double(state >> 40) / Double(1 << 24)) * 2 - 1
    }

    mutating func fill(_ b: Buffer, fanIn: Int) {
        let scale = Float((6.0 / Double(max(fanIn, 1))).squareRoot())
        for i in 0..<b.count { b.pointer[i] = next() * scale }
    }
}

/// C = A (m x k) * B (k x n), row-major, through OpenBLAS's sgemm.
@inline(__always) func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, transB: Bool = false) {
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b,
        Int32(transB ? k : n), 0, c, Int32(n))
}

/// A 2-D convolution (CHW, batch 1) with bias and optional ReLU / ReLU6: im2col + GEMM,
/// or direct loops for depthwise convolutions (groups == channels).
final class Conv2D {
    let inC: Int, outC: Int, k: Int, stride: Int, pad: Int, depthwise: Bool
    let activation: Activation
    let weights: Buffer
    let bias: Buffer

    enum Activation { case none, relu, relu6 }

    init(inC: Int, outC: Int, k: Int, stride: Int = 1, pad: Int? = nil, depthwise: Bool = false, activation: Activation = .relu, filler: inout WeightFiller) {
        self.inC = inC
        self.outC = outC
        self.k = k
        self.stride = stride
        self.pad = pad ?? k / 2
        self.depthwise = depthwise
        self.activation = activation
        weights = Buffer(count: depthwise ? outC * k * k : outC * inC * k * k)
        bias = Buffer(count: outC)
        filler.fill(weights, fanIn: depthwise ? k * k : inC * k * k)
    }

    func outSize(_ h: Int) -> Int { (h + 2 * pad - k) / stride + 1 }

    /// Scratch floats the im2col step needs for an input of h x w.
    func scratch(_ h: Int, _ w: Int) -> Int { depthwise || (k == 1 && stride == 1) ? 0 : inC * k * k * outSize(h) * outSize(w) }

    func run(_ x: UnsafePointer<Float>, h: Int, w: Int, into y: UnsafeMutablePointer<Float>, col: UnsafeMutablePointer<Float>) -> (Int, Int) {
        let oh = outSize(h), ow = outSize(w), n = oh * ow
        if depthwise {
            for c in 0..<outC {
                let wk = weights.pointer + c * k * k
                let xin = x + c * h * w, yo = y + c * n
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s: Float = 0
                        for ky in 0..<k {
                            let iy = oy * stride - pad + ky
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<k {
                                let ix = ox * stride - pad + kx
                                if ix < 0 || ix >= w { continue }
                                s += wk[ky * k + kx] * xin[iy * w + ix]
                            }
                        }
                        yo[oy * ow + ox] = s
                    }
                }
            }
        } else if k == 1 && stride == 1 {
            gemm(weights.pointer, x, y, m: outC, n: n, k: inC)
        } else {
            // im2col: row (c, ky, kx), column (oy, ox).
            var row = 0
            for c in 0..<inC {
                let xin = x + c * h * w
                for ky in 0..<k {
                    for kx in 0..<k {
                        let dst = col + row * n
                        for oy in 0..<oh {
                            let iy = oy * stride - pad + ky
                            let d = dst + oy * ow
                            if iy < 0 || iy >= h {
                                d.update(repeating: 0, count: ow)
                                continue
                            }
                            let src = xin + iy * w
                            for ox in 0..<ow {
                                let ix = ox * stride - pad + kx
                                d[ox] = (ix >= 0 && ix < w) ? src[ix] : 0
                            }
                        }
                        row += 1
                    }
                }
            }
            gemm(weights.pointer, col, y, m: outC, n: n, k: inC * k * k)
        }
        for c in 0..<outC {
            let b = bias.pointer[c]
            let yo = y + c * n
            switch activation {
            case .none: for i in 0..<n { yo[i] += b }
            case .relu: for i in 0..<n { yo[i] = max(yo[i] + b, 0) }
            case .relu6: for i in 0..<n { yo[i] = min(max(yo[i] + b, 0), 6) }
            }
        }
        return (oh, ow)
    }
}

/// Max pooling (k x k, stride s, padding p) over CHW.
func maxPool(_ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int, into y: UnsafeMutablePointer<Float>) -> (Int, Int) {
    let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
    for ch in 0..<c {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var m = -Float.infinity
                for ky in 0..<k {
                    let iy = oy * stride - pad + ky
                    if iy < 0 || iy >= h { continue }
                    for kx in 0..<k {
                        let ix = ox * stride - pad + kx
                        if ix < 0 || ix >= w { continue }
                        m = max(m, x[ch * h * w + iy * w + ix])
                    }
                }
                y[ch * oh * ow + oy * ow + ox] = m
            }
        }
    }
    return (oh, ow)
}

/// Fully connected layer: y (out) = W (out x in) x (in) + b.
final class Dense {
    let inputs: Int, outputs: Int
    let weights: Buffer, bias: Buffer

    init(_ inputs: Int, _ outputs: Int, filler: inout WeightFiller) {
        self.inputs = inputs
        self.outputs = outputs
        weights = Buffer(count: inputs * outputs)
        bias = Buffer(count: outputs)
        filler.fill(weights, fanIn: inputs)
    }

    /// Applies to `rows` input vectors at once (rows x in -> rows x out).
    func run(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        gemm(x, weights.pointer, y, m: rows, n: outputs, k: inputs, transB: true)
        for r in 0..<rows { for j in 0..<outputs { y[r * outputs + j] += bias.pointer[j] } }
    }
}
