namespace NativeEE.Kernels;

/// <summary>
/// Multi-head scaled dot-product attention over a packed batch: sequences stored back to back,
/// <c>seqOffsets[b]..seqOffsets[b+1]</c> are the token rows of sequence b (no padding).
/// </summary>
public static partial class Attention
{
    /// <summary>Floats of scratch <see cref="Forward"/> needs for sequences up to <paramref name="maxSeqLen"/> tokens on <paramref name="threads"/> threads.</summary>
    public static int ScratchSize(int maxSeqLen, int threads) => maxSeqLen * maxSeqLen * Math.Max(1, threads);

    /// <summary>
    /// qkv[T, 3·H·D] (per token: Q heads, then K heads, then V heads; head h at columns h·D..h·D+D of each part)
    /// → output[T, H·D] = softmax(Q·Kᵀ/√D + mask) · V per sequence and head.
    /// <paramref name="keyMask"/> (optional, length T) is added to every score whose key is that token
    /// (0 = attend, large negative = padding). <paramref name="scratch"/> ≥ <see cref="ScratchSize"/>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<int> seqOffsets, int heads, int headDim,
        Span<float> output, Span<float> scratch, ReadOnlySpan<float> keyMask = default, WorkerPool? pool = null)
        => ForwardReference(qkv, seqOffsets, heads, headDim, output, keyMask);

    /// <summary>Scalar oracle (double accumulation).</summary>
    public static void ForwardReference(ReadOnlySpan<float> qkv, ReadOnlySpan<int> seqOffsets, int heads, int headDim,
        Span<float> output, ReadOnlySpan<float> keyMask = default)
    {
        int hidden = heads * headDim, stride = 3 * hidden;
        double scale = 1.0 / Math.Sqrt(headDim);
        for (int b = 0; b + 1 < seqOffsets.Length; b++)
        {
            int s0 = seqOffsets[b], len = seqOffsets[b + 1] - s0;
            var scores = new double[len];
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < len; i++)
                {
                    var q = qkv.Slice((s0 + i) * stride + h * headDim, headDim);
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < len; j++)
                    {
                        var kk = qkv.Slice((s0 + j) * stride + hidden + h * headDim, headDim);
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) dot += (double)q[d] * kk[d];
                        dot = dot * scale + (keyMask.IsEmpty ? 0 : keyMask[s0 + j]);
                        scores[j] = dot;
                        max = Math.Max(max, dot);
                    }
                    double sum = 0;
                    for (int j = 0; j < len; j++) { scores[j] = Math.Exp(scores[j] - max); sum += scores[j]; }
                    var o = output.Slice((s0 + i) * hidden + h * headDim, headDim);
                    for (int d = 0; d < headDim; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < len; j++) acc += scores[j] * qkv[(s0 + j) * stride + 2 * hidden + h * headDim + d];
                        o[d] = (float)(acc / sum);
                    }
                }
            }
        }
    }
}
