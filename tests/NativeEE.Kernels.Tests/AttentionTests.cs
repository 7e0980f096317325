using NativeEE.Kernels;

namespace NativeEE.Kernels.Tests;

/// <summary>
/// Attention vs the double-precision oracle on packed batches of ragged sequences.
/// Tolerance per output element: |Δ| ≤ 1e-6·(|o| + Σⱼ pⱼ·|vⱼ|·(1 + Σ_d |q_d·k_jd|/√D)): o = Σ pⱼvⱼ cancels,
/// and each pⱼ inherits its score's rounding, which is relative to the magnitude of the score's terms.
/// Measured worst: 1.5–2.2e-7 of that scale for scores of spread 1–8, on every width.
/// </summary>
public class AttentionTests
{
    const double Tolerance = 1e-6;
    static readonly int[] Lengths = [1, 3, 17, 33, 128];

    static (float[] Qkv, int[] Offsets) Batch(int[] lengths, int heads, int dim, int seed, float spread = 1f)
    {
        var offsets = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++) offsets[b + 1] = offsets[b] + lengths[b];
        return (KernelVariants.Normal(seed, offsets[^1] * 3 * heads * dim, scale: spread), offsets);
    }

    /// <summary>
    /// The oracle's output and, per element, Σⱼ pⱼ·|vⱼ|·(1 + Σ_d |q_d·k_jd|/√D) from a second double-precision
    /// pass: the magnitude of the terms summed into o, each weighted by the magnitude of the terms summed into
    /// its score (a score's float rounding is relative to that, and exp turns it into p's relative error).
    /// Cached per case so the four widths share one oracle run.
    /// </summary>
    static (float[] Expected, double[] Scale) Oracle(float[] qkv, int[] offsets, int heads, int dim, float[]? mask)
    {
        string key = $"{heads}x{dim}:{string.Join(',', offsets)}:{qkv[0]:R}:{(mask is null ? "-" : string.Join(',', mask))}";
        return OracleCache.GetOrAdd(key, _ => new Lazy<(float[], double[])>(() =>
        {
            var expected = new float[offsets[^1] * heads * dim];
            Attention.ForwardReference(qkv, offsets, heads, dim, expected, mask);
            return (expected, MagnitudeScale(qkv, offsets, heads, dim, mask));
        })).Value;
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<(float[], double[])>> OracleCache = new();

    static double[] MagnitudeScale(float[] qkv, int[] offsets, int heads, int dim, float[]? mask)
    {
        int hidden = heads * dim, stride = 3 * hidden;
        var scale = new double[offsets[^1] * hidden];
        for (int b = 0; b + 1 < offsets.Length; b++)
        {
            int s0 = offsets[b], len = offsets[b + 1] - s0;
            var p = new double[len];
            var a = new double[len];
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < len; i++)
                {
                    double max = double.NegativeInfinity, sum = 0;
                    for (int j = 0; j < len; j++)
                    {
                        double dot = 0, magnitude = 0;
                        for (int d = 0; d < dim; d++)
                        {
                            double term = (double)qkv[(s0 + i) * stride + h * dim + d] * qkv[(s0 + j) * stride + hidden + h * dim + d];
                            dot += term;
                            magnitude += Math.Abs(term);
                        }
                        p[j] = dot / Math.Sqrt(dim) + (mask is null ? 0 : mask[s0 + j]);
                        a[j] = 1 + magnitude / Math.Sqrt(dim);
                        max = Math.Max(max, p[j]);
                    }
                    for (int j = 0; j < len; j++) { p[j] = Math.Exp(p[j] - max); sum += p[j]; }
                    for (int d = 0; d < dim; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < len; j++) acc += p[j] / sum * a[j] * Math.Abs(qkv[(s0 + j) * stride + 2 * hidden + h * dim + d]);
                        scale[(s0 + i) * hidden + h * dim + d] = acc;
                    }
                }
        }
        return scale;
    }

    static float[] RunAttention(float[] qkv, int[] offsets, int heads, int dim, float[]? mask, IsaPath path, WorkerPool? pool = null, bool firstTokenOnly = false)
    {
        int maxLen = 0;
        for (int b = 0; b + 1 < offsets.Length; b++) maxLen = Math.Max(maxLen, offsets[b + 1] - offsets[b]);
        var output = new float[(firstTokenOnly ? offsets.Length - 1 : offsets[^1]) * heads * dim];
        var scratch = new float[Attention.ScratchSize(maxLen, pool?.Threads ?? 1)];
        Attention.Forward(qkv, offsets, heads, dim, output, scratch, mask, pool, firstTokenOnly, path);
        return output;
    }

    public static TheoryData<IsaPath, int, int> Shapes()
    {
        var data = new TheoryData<IsaPath, int, int>();
        foreach (IsaPath path in new[] { IsaPath.Scalar, IsaPath.Vector128, IsaPath.Vector256, IsaPath.Vector512 })
            foreach (var (h, d) in new[] { (12, 32), (12, 64), (3, 5), (2, 13) })
                data.Add(path, h, d);
        return data;
    }

    [Theory, MemberData(nameof(Shapes))]
    public void RaggedBatchMatchesTheOracle(IsaPath path, int heads, int dim)
    {
        var (qkv, offsets) = Batch(Lengths, heads, dim, seed: heads * 100 + dim, spread: 1.5f);
        var (expect, scale) = Oracle(qkv, offsets, heads, dim, null);
        float[] actual = RunAttention(qkv, offsets, heads, dim, null, path);
        KernelVariants.AssertClose(expect, actual, Tolerance, scale, $"attention {heads}×{dim} {path}");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void KeyMaskMatchesTheOracleAndExcludesMaskedKeys(IsaPath path, int heads, int dim)
    {
        // Lengths of every block-edge kind but not 128 (the unmasked test has it): keeps the oracle cheap under emulation.
        var (qkv, offsets) = Batch([1, 3, 17, 33, 50], heads, dim, seed: heads * 10 + dim + 1);
        // HF-style additive mask: 0, a large negative, float.MinValue and −∞, never on a sequence's first token.
        var rng = new Random(dim);
        var mask = new float[offsets[^1]];
        for (int t = 0; t < mask.Length; t++)
            mask[t] = Array.IndexOf(offsets, t) >= 0 ? 0f : rng.Next(4) switch { 0 => -10000f, 1 => float.MinValue, 2 => float.NegativeInfinity, _ => 0f };
        var (expect, scale) = Oracle(qkv, offsets, heads, dim, mask);
        float[] actual = RunAttention(qkv, offsets, heads, dim, mask, path);
        KernelVariants.AssertClose(expect, actual, Tolerance, scale, $"masked attention {heads}×{dim} {path}");

        // Masked keys carry no weight: changing their values must not change any output.
        float[] poked = (float[])qkv.Clone();
        int hidden = heads * dim;
        for (int t = 0; t < mask.Length; t++)
            if (mask[t] <= float.MinValue)
                for (int c = 2 * hidden; c < 3 * hidden; c++) poked[t * 3 * hidden + c] = 1e6f;
        Assert.Equal(actual, RunAttention(poked, offsets, heads, dim, mask, path));
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void FirstTokenOnlyEqualsTheFirstRowsOfTheFullResult(IsaPath path)
    {
        const int heads = 12, dim = 32;
        var (qkv, offsets) = Batch(Lengths, heads, dim, seed: 77);
        var mask = new float[offsets[^1]];
        mask[5] = -10000f;
        float[] full = RunAttention(qkv, offsets, heads, dim, mask, path);
        float[] first = RunAttention(qkv, offsets, heads, dim, mask, path, firstTokenOnly: true);
        int hidden = heads * dim;
        Assert.Equal(Lengths.Length * hidden, first.Length);
        for (int b = 0; b < Lengths.Length; b++)
            Assert.Equal(full.AsSpan(offsets[b] * hidden, hidden).ToArray(), first.AsSpan(b * hidden, hidden).ToArray());
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void PoolThreadsGiveTheSameResultAsOneThread(IsaPath path)
    {
        const int heads = 3, dim = 64;
        var (qkv, offsets) = Batch([9, 1, 40, 2, 17, 25], heads, dim, seed: 5);
        using var pool = new WorkerPool(2);
        Assert.Equal(RunAttention(qkv, offsets, heads, dim, null, path), RunAttention(qkv, offsets, heads, dim, null, path, pool));
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void LargeScoresStayFinite(IsaPath path)
    {
        // Scores in the hundreds: exp would overflow without the max subtraction; one key dominates.
        const int heads = 2, dim = 16;
        var (qkv, offsets) = Batch([5, 12], heads, dim, seed: 9, spread: 8f);
        var (expect, scale) = Oracle(qkv, offsets, heads, dim, null);
        float[] actual = RunAttention(qkv, offsets, heads, dim, null, path);
        Assert.All(actual, v => Assert.True(float.IsFinite(v)));
        KernelVariants.AssertClose(expect, actual, Tolerance, scale, "large scores");
    }

    [Fact]
    public void PublicForwardAllocatesNothingPerCall()
    {
        const int heads = 12, dim = 32;
        var (qkv, offsets) = Batch([25, 8, 60], heads, dim, seed: 3);
        var output = new float[offsets[^1] * heads * dim];
        var cls = new float[3 * heads * dim];
        var mask = new float[offsets[^1]];
        using var pool = new WorkerPool(2);
        var scratch = new float[Attention.ScratchSize(60, pool.Threads)];
        Attention.Forward(qkv, offsets, heads, dim, output, scratch, mask, pool);
        Attention.ForwardFirstToken(qkv, offsets, heads, dim, cls, scratch, mask, pool);
        Attention.Forward(qkv, offsets, heads, dim, output, scratch);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            Attention.Forward(qkv, offsets, heads, dim, output, scratch, mask, pool);
            Attention.ForwardFirstToken(qkv, offsets, heads, dim, cls, scratch, mask, pool);
            Attention.Forward(qkv, offsets, heads, dim, output, scratch);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ScratchSizeCoversEveryWidthAndHeadSize()
    {
        Assert.Equal(2 * Attention.ScratchSize(128, 1), Attention.ScratchSize(128, 2));
        // A one-thread slice for 128 tokens: the score matrix (rows rounded up to the 6-row block, keys to
        // the 32-key block), a 64×32 K tile and the row sums.
        Assert.Equal(132 * 128 + 64 * 32 + 132, Attention.ScratchSize(128, 1));
        // Exactly ScratchSize works for every width and an odd head size (the tests above use it too);
        // one float less is refused with a message that says how to size it.
        var (qkv, offsets) = Batch([33], 1, 70, seed: 1);
        var output = new float[33 * 70];
        var ex = Assert.Throws<ArgumentException>(() =>
            Attention.Forward(qkv, offsets, 1, 70, output, new float[Attention.ScratchSize(33, 1) - 1]));
        Assert.Contains("Attention.ScratchSize", ex.Message);
    }

    [Fact]
    public void ScratchForFewerThreadsThanThePoolStillWorks()
    {
        const int heads = 4, dim = 8;
        var (qkv, offsets) = Batch([7, 30], heads, dim, seed: 2);
        var expect = RunAttention(qkv, offsets, heads, dim, null, Isa.Active);
        using var pool = new WorkerPool(2);
        var output = new float[expect.Length];
        Attention.Forward(qkv, offsets, heads, dim, output, new float[Attention.ScratchSize(30, 1)], default, pool);
        Assert.Equal(expect, output);
    }

    [Fact]
    public void EmptySequencesAndTinyHeadsWork()
    {
        var (qkv, offsets) = Batch([2, 0, 1, 0], 1, 1, seed: 4);
        var expect = new float[offsets[^1]];
        Attention.ForwardReference(qkv, offsets, 1, 1, expect);
        var output = new float[offsets[^1]];
        Attention.Forward(qkv, offsets, 1, 1, output, new float[Attention.ScratchSize(2, 1)]);
        KernelVariants.AssertClose(expect, output, Tolerance, what: "1×1");
        Attention.Forward(qkv, [0], 1, 1, output, []);
    }

    [Fact]
    public void BadLayoutsAreRejected()
    {
        var (qkv, offsets) = Batch([3, 4], 2, 4, seed: 6);
        var output = new float[7 * 8];
        var scratch = new float[Attention.ScratchSize(4, 1)];
        Assert.Contains("must not decrease", Assert.Throws<ArgumentException>(() => Attention.Forward(qkv, [0, 4, 3], 2, 4, output, scratch)).Message);
        Assert.Contains("qkv has", Assert.Throws<ArgumentException>(() => Attention.Forward(qkv.AsSpan(1), offsets, 2, 4, output, scratch)).Message);
        Assert.Contains("output has", Assert.Throws<ArgumentException>(() => Attention.Forward(qkv, offsets, 2, 4, output.AsSpan(1), scratch)).Message);
        Assert.Contains("keyMask has", Assert.Throws<ArgumentException>(() => Attention.Forward(qkv, offsets, 2, 4, output, scratch, new float[6])).Message);
        Assert.Contains("seqOffsets is empty", Assert.Throws<ArgumentException>(() => Attention.Forward(qkv, [], 2, 4, output, scratch)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Attention.Forward(qkv, offsets, 0, 4, output, scratch));
    }
}
