import CGSL
import Glibc

/// A deep network whose forward pass runs real layer shapes on random weights.
public protocol InferenceNetwork: AnyObject {
    /// Its name, e.g. `resnet50`.
    var name: String { get }
    /// Multiply-accumulate operations of one forward pass (for reports).
    var macs: Int { get }
    /// Runs one forward pass (batch 1). No allocation after construction.
    func infer()
}

/// The networks the workload can run, by name.
public enum NetworkCatalog {
    public static let names = ["resnet50", "mobilenetv2", "vgg16", "bert-base"]

    /// Builds a network (weights are generated, deterministically, on construction).
    public static func make(_ name: String) -> InferenceNetwork? {
        var filler = WeightFiller(state: 0x5EED_0000 &+ UInt64(name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        switch name {
        case "resnet50": return ConvNet(resnet50: &filler)
        case "mobilenetv2": return ConvNet(mobilenetV2: &filler)
        case "vgg16": return ConvNet(vgg16: &filler)
        case "bert-base": return BertEncoder(filler: &filler)
        default: return nil
        }
    }
}

/// A convolutional network as a list of steps over ping-pong buffers.
final class ConvNet: InferenceNetwork {
    enum Step {
        case conv(Conv2D, from: Int, to: Int)
        case maxPool(k: Int, stride: Int, pad: Int, from: Int, to: Int)
        /// buffers[to] += buffers[from], then optional ReLU.
        case add(from: Int, to: Int, relu: Bool)
        case globalAvgPool(from: Int, to: Int)
        case dense(Dense, from: Int, to: Int, relu: Bool)
    }

    let name: String
    private(set) var macs = 0
    var steps: [(Step, c: Int, h: Int, w: Int)] = []  // with the input shape of each step
    var buffers: [Buffer] = []
    var col: Buffer
    let input: (c: Int, h: Int, w: Int)

    init(name: String, input: (Int, Int, Int)) {
        self.name = name
        self.input = input
        col = Buffer(count: 1)
    }

    // Shape tracking while building.
    var shape: (c: Int, h: Int, w: Int) = (0, 0, 0)
    var sizes: [Int] = [0, 0, 0, 0, 0]
    var colSize = 0

    func need(_ buffer: Int, _ count: Int) { sizes[buffer] = max(sizes[buffer], count) }

    func conv(_ outC: Int, k: Int, stride: Int = 1, pad: Int? = nil, depthwise: Bool = false, act: Conv2D.Activation = .relu, from: Int, to: Int, filler: inout WeightFiller) {
        let layer = Conv2D(inC: shape.c, outC: outC, k: k, stride: stride, pad: pad, depthwise: depthwise, activation: act, filler: &filler)
        steps.append((.conv(layer, from: from, to: to), shape.c, shape.h, shape.w))
        colSize = max(colSize, layer.scratch(shape.h, shape.w))
        let oh = layer.outSize(shape.h), ow = layer.outSize(shape.w)
        macs += outC * oh * ow * (depthwise ? k * k : shape.c * k * k)
        shape = (outC, oh, ow)
        need(to, outC * oh * ow)
    }

    func pool(k: Int, stride: Int, pad: Int, from: Int, to: Int) {
        steps.append((.maxPool(k: k, stride: stride, pad: pad, from: from, to: to), shape.c, shape.h, shape.w))
        shape = (shape.c, (shape.h + 2 * pad - k) / stride + 1, (shape.w + 2 * pad - k) / stride + 1)
        need(to, shape.c * shape.h * shape.w)
    }

    func finish() {
        buffers = sizes.map { Buffer(count: $0) }
        col = Buffer(count: colSize)
        // A fixed input image.
        var f = WeightFiller(state: 42)
        for i in 0..<(input.c * input.h * input.w) { buffers[0].pointer[i] = f.next() }
    }

    func infer() {
        for (step, c, h, w) in steps {
            switch step {
            case let .conv(layer, from, to):
                _ = layer.run(buffers[from].pointer, h: h, w: w, into: buffers[to].pointer, col: col.pointer)
            case let .maxPool(k, stride, pad, from, to):
                _ = maxPool(buffers[from].pointer, c: c, h: h, w: w, k: k, stride: stride, pad: pad, into: buffers[to].pointer)
            case let .add(from, to, relu):
                let a = buffers[from].pointer, b = buffers[to].pointer
                let n = c * h * w
                if relu { for i in 0..<n { b[i] = max(a[i] + b[i], 0) } } else { for i in 0..<n { b[i] += a[i] } }
            case let .globalAvgPool(from, to):
                let x = buffers[from].pointer, y = buffers[to].pointer
                let n = h * w
                for ch in 0..<c {
                    var s: Float = 0
                    for i in 0..<n { s += x[ch * n + i] }
                    y[ch] = s / Float(n)
                }
            case let .dense(layer, from, to, relu):
                layer.run(buffers[from].pointer, rows: 1, into: buffers[to].pointer)
                if relu { for i in 0..<layer.outputs { buffers[to].pointer[i] = max(buffers[to].pointer[i], 0) } }
            }
        }
    }

    func add(from: Int, to: Int, relu: Bool) { steps.append((.add(from: from, to: to, relu: relu), shape.c, shape.h, shape.w)) }

    func avgPoolAndDense(_ outputs: Int, from: Int, filler: inout WeightFiller) {
        let other = from == 1 ? 2 : 1  // any buffer but `from`
        steps.append((.globalAvgPool(from: from, to: other), shape.c, shape.h, shape.w))
        need(other, shape.c)
        let fc = Dense(shape.c, outputs, filler: &filler)
        macs += shape.c * outputs
        steps.append((.dense(fc, from: other, to: from, relu: false), shape.c, 1, 1))
        need(from, outputs)
        shape = (outputs, 1, 1)
    }

    /// ResNet-50 (He et al. 2016): 7x7 stem, bottleneck stages [3, 4, 6, 3], 224x224 input.
    convenience init(resnet50 filler: inout WeightFiller) {
        self.init(name: "resnet50", input: (3, 224, 224))
        shape = (3, 224, 224)
        need(0, 3 * 224 * 224)
        conv(64, k: 7, stride: 2, pad: 3, from: 0, to: 1, filler: &filler)
        pool(k: 3, stride: 2, pad: 1, from: 1, to: 2)
        // Block input alternates between buffers 2 and 3 (the output lands in the other);
        // 4 holds the middle activation, 1 the projected shortcut.
        var inBuf = 2, outBuf = 3
        for (mid, out, blocks, stride) in [(64, 256, 3, 1), (128, 512, 4, 2), (256, 1024, 6, 2), (512, 2048, 3, 2)] {
            for b in 0..<blocks {
                let s = b == 0 ? stride : 1
                let inShape = shape
                conv(mid, k: 1, from: inBuf, to: outBuf, filler: &filler)
                conv(mid, k: 3, stride: s, from: outBuf, to: 4, filler: &filler)
                conv(out, k: 1, act: .none, from: 4, to: outBuf, filler: &filler)
                if b == 0 {
                    let outShape = shape
                    shape = inShape
                    conv(out, k: 1, stride: s, pad: 0, act: .none, from: inBuf, to: 1, filler: &filler)
                    shape = outShape
                    add(from: 1, to: outBuf, relu: true)
                } else {
                    add(from: inBuf, to: outBuf, relu: true)
                }
                swap(&inBuf, &outBuf)
            }
        }
        avgPoolAndDense(1000, from: inBuf, filler: &filler)
        finish()
    }

    /// MobileNetV2 (Sandler et al. 2018): inverted residual blocks, 224x224 input.
    convenience init(mobilenetV2 filler: inout WeightFiller) {
        self.init(name: "mobilenetv2", input: (3, 224, 224))
        shape = (3, 224, 224)
        need(0, 3 * 224 * 224)
        conv(32, k: 3, stride: 2, act: .relu6, from: 0, to: 1, filler: &filler)
        var cur = 1
        for (t, c, n, s) in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)] {
            for i in 0..<n {
                let stride = i == 0 ? s : 1
                let inC = shape.c
                let a = cur == 1 ? 2 : 1, b = 3
                if t != 1 {
                    conv(inC * t, k: 1, act: .relu6, from: cur, to: a, filler: &filler)
                    conv(inC * t, k: 3, stride: stride, depthwise: true, act: .relu6, from: a, to: b, filler: &filler)
                } else {
                    conv(inC, k: 3, stride: stride, depthwise: true, act: .relu6, from: cur, to: b, filler: &filler)
                }
                conv(c, k: 1, act: .none, from: b, to: a, filler: &filler)
                if stride == 1 && inC == c { add(from: cur, to: a, relu: false) }
                cur = a
            }
        }
        conv(1280, k: 1, act: .relu6, from: cur, to: cur == 1 ? 2 : 1, filler: &filler)
        cur = cur == 1 ? 2 : 1
        avgPoolAndDense(1000, from: cur, filler: &filler)
        finish()
    }

    /// VGG-16 (Simonyan & Zisserman 2015): 13 3x3 convolutions, 3 fully connected layers.
    convenience init(vgg16 filler: inout WeightFiller) {
        self.init(name: "vgg16", input: (3, 224, 224))
        shape = (3, 224, 224)
        need(0, 3 * 224 * 224)
        var cur = 0
        for item in [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0] {
            let next = cur == 1 ? 2 : 1
            if item == 0 { pool(k: 2, stride: 2, pad: 0, from: cur, to: next) } else { conv(item, k: 3, from: cur, to: next, filler: &filler) }
            cur = next
        }
        var inputs = shape.c * shape.h * shape.w
        for (outputs, relu) in [(4096, true), (4096, true), (1000, false)] {
            let next = cur == 1 ? 2 : 1
            let fc = Dense(inputs, outputs, filler: &filler)
            macs += inputs * outputs
            steps.append((.dense(fc, from: cur, to: next, relu: relu), inputs, 1, 1))
            need(next, outputs)
            inputs = outputs
            cur = next
        }
        finish()
    }
}

