import CGSL
import Glibc

/// A BERT-base encoder stack (Devlin et al. 2019): 12 layers, hidden 768, 12 heads,
/// feed-forward 3072, on a sequence of 128 tokens (embeddings given).
final class BertEncoder: InferenceNetwork {
    let name = "bert-base"
    let layers = 12, seq = 128, hidden = 768, heads = 12, ffn = 3072
    var macs: Int { layers * (seq * hidden * 3 * hidden + 2 * seq * seq * hidden + seq * hidden * hidden + 2 * seq * hidden * ffn) }

    struct Layer {
        let qkv: Dense, out: Dense, up: Dense, down: Dense
    }

    var weights: [Layer] = []
    let x: Buffer, qkv: Buffer, scores: Buffer, context: Buffer, tmp: Buffer, inner: Buffer

    init(filler: inout WeightFiller) {
        for _ in 0..<layers {
            weights.append(Layer(
                qkv: Dense(hidden, 3 * hidden, filler: &filler), out: Dense(hidden, hidden, filler: &filler),
                up: Dense(hidden, ffn, filler: &filler), down: Dense(ffn, hidden, filler: &filler)))
        }
        x = Buffer(count: seq * hidden)
        qkv = Buffer(count: seq * 3 * hidden)
        scores = Buffer(count: seq * seq)
        context = Buffer(count: seq * hidden)
        tmp = Buffer(count: seq * hidden)
        inner = Buffer(count: seq * ffn)
        var f = WeightFiller(state: 7)
        for i in 0..<x.count { x.pointer[i] = f.next() }
    }

    func infer() {
        let dh = hidden / heads
        let scale = 1 / Float(dh).squareRoot()
        // Layer norms keep the activations' scale, so repeated passes stay finite.
        for layer in weights {
            layer.qkv.run(x.pointer, rows: seq, into: qkv.pointer)
            for h in 0..<heads {
                let q = qkv.pointer + h * dh, k = qkv.pointer + hidden + h * dh, v = qkv.pointer + 2 * hidden + h * dh
                // scores = Q K^T / sqrt(dh)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(seq), Int32(seq), Int32(dh), scale, q, Int32(3 * hidden), k, Int32(3 * hidden), 0, scores.pointer, Int32(seq))
                for r in 0..<seq {
                    let row = scores.pointer + r * seq
                    var m = -Float.infinity
                    for j in 0..<seq { m = max(m, row[j]) }
                    var sum: Float = 0
                    for j in 0..<seq {
                        row[j] = expf(row[j] - m)
                        sum += row[j]
                    }
                    for j in 0..<seq { row[j] /= sum }
                }
                // context_h = softmax(scores) V_h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(seq), Int32(dh), Int32(seq), 1, scores.pointer, Int32(seq), v, Int32(3 * hidden), 0, context.pointer + h * dh, Int32(hidden))
            }
            layer.out.run(context.pointer, rows: seq, into: tmp.pointer)
            addNorm(tmp.pointer)
            layer.up.run(x.pointer, rows: seq, into: inner.pointer)
            for i in 0..<(seq * ffn) {
                let u = inner.pointer[i]
                inner.pointer[i] = 0.5 * u * (1 + tanhf(0.7978845608 * (u + 0.044715 * u * u * u)))
            }
            layer.down.run(inner.pointer, rows: seq, into: tmp.pointer)
            addNorm(tmp.pointer)
        }
    }

    /// x = LayerNorm(x + y), per token (unit gain, zero bias).
    func addNorm(_ y: UnsafeMutablePointer<Float>) {
        for t in 0..<seq {
            let row = x.pointer + t * hidden, add = y + t * hidden
            var mean: Float = 0
            for i in 0..<hidden {
                row[i] += add[i]
                mean += row[i]
            }
            mean /= Float(hidden)
            var variance: Float = 0
            for i in 0..<hidden { variance += (row[i] - mean) * (row[i] - mean) }
            let inv = 1 / (variance / Float(hidden) + 1e-12).squareRoot()
            for i in 0..<hidden { row[i] = (row[i] - mean) * inv }
        }
    }
}
