using System.Runtime.Intrinsics;

namespace NativeEE.Kernels.Tests;

/// <summary>
/// Every microkernel width (scalar, 128, 256, 512 bits) against the double-precision oracle
/// <see cref="Gemm.MultiplyReference"/>, on any machine: widths the CPU lacks run emulated, so they
/// only get the small shapes.
/// Tolerance per element: |y − ref| ≤ 1e-5 · (Σₚ|x·w| + |bias| + |residual|). Float sums of K
/// products in another order drift by ~√K·6e-8 of Σ|x·w| for random data, well inside; a wrong
/// index or a dropped K block errs by the order of Σ|x·w| itself.
/// </summary>
public class GemmTests
{
    /// <summary>M, N, K drawn from {1,2,3,7,15,16,17,31,33,127,128,129,768,3072}: every value appears in each role, every microkernel edge (1…MR rows, ragged panels, K blocks with remainder) is reached.</summary>
    static readonly (int M, int N, int K)[] SmallShapes =
    [
        (1, 1, 1), (2, 3, 7), (3, 17, 15), (7, 33, 16), (15, 16, 17), (16, 31, 33), (17, 7, 31),
        (31, 15, 2), (33, 2, 3), (1, 129, 127), (2, 127, 129), (127, 1, 128), (128, 3, 1), (129, 16, 17),
        (7, 128, 33), (2, 17, 768), (1, 33, 3072),
    ];

    /// <summary>Shapes with 768/3072 (several K blocks, several N chunks, M chunks): run only where the width is accelerated.</summary>
    static readonly (int M, int N, int K)[] LargeShapes =
    [
        (1, 768, 3072), (3, 3072, 129), (25, 129, 768), (128, 768, 128), (129, 127, 768), (768, 33, 15), (16, 17, 3072),
    ];

    public static TheoryData<IsaPath, int, int, int, Epilogue, bool, bool> SmallCases() => Cases(SmallShapes, _ => true);

    public static TheoryData<IsaPath, int, int, int, Epilogue, bool, bool> LargeCases() => Cases(LargeShapes, Accelerated);

    static TheoryData<IsaPath, int, int, int, Epilogue, bool, bool> Cases((int M, int N, int K)[] shapes, Func<IsaPath, bool> include)
    {
        var data = new TheoryData<IsaPath, int, int, int, Epilogue, bool, bool>();
        foreach (var path in Enum.GetValues<IsaPath>())
        {
            if (!include(path)) continue;
            int i = 0;
            foreach (var (m, n, k) in shapes)
            {
                // Cycle the epilogue variants over the shapes so each width meets each variant on several shapes.
                data.Add(path, m, n, k, (Epilogue)(i % 3), i % 2 == 0, i % 4 < 2);
                i++;
            }
        }
        return data;
    }

    /// <summary>Native on this CPU (the scalar loops always are).</summary>
    internal static bool Accelerated(IsaPath path) => path switch
    {
        IsaPath.Vector512 => Vector512.IsHardwareAccelerated,
        IsaPath.Vector256 => Vector256.IsHardwareAccelerated,
        IsaPath.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void MatchesReference(IsaPath path, int m, int n, int k, Epilogue epilogue, bool withBias, bool withResidual)
    {
        var p = Problem.Create(m, n, k, withBias, withResidual, seed: m * 7919 + n * 131 + k);
        var packed = Gemm.Pack(p.W, n, k, path);
        var y = new float[m * n];
        Gemm.Multiply(p.X, m, packed, p.Bias, y, epilogue, p.Residual, null, path);
        p.AssertClose(y, epilogue);
    }

    /// <summary>Left out under qemu (CI's arm64 run), where they would take minutes; run natively in every x64 mode.</summary>
    [Theory]
    [Trait("Size", "Large")]
    [MemberData(nameof(LargeCases))]
    public void MatchesReferenceOnLargeShapes(IsaPath path, int m, int n, int k, Epilogue epilogue, bool withBias, bool withResidual)
        => MatchesReference(path, m, n, k, epilogue, withBias, withResidual);

    public static TheoryData<IsaPath, Epilogue, bool> EpilogueCases()
    {
        var data = new TheoryData<IsaPath, Epilogue, bool>();
        foreach (var path in Enum.GetValues<IsaPath>())
            foreach (var epilogue in Enum.GetValues<Epilogue>())
            {
                data.Add(path, epilogue, false);
                data.Add(path, epilogue, true);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(EpilogueCases))]
    public void EveryEpilogueWithAndWithoutResidual(IsaPath path, Epilogue epilogue, bool withResidual)
    {
        const int m = 17, n = 33, k = 31;
        var p = Problem.Create(m, n, k, withBias: true, withResidual, seed: 5);
        var y = new float[m * n];
        Gemm.Multiply(p.X, m, Gemm.Pack(p.W, n, k, path), p.Bias, y, epilogue, p.Residual, null, path);
        p.AssertClose(y, epilogue);
    }

    [Fact]
    [Trait("Size", "Large")]
    public void ActivePathMatchesReferenceOnBertShape()
    {
        const int m = 25, n = 1152, k = 384;
        var p = Problem.Create(m, n, k, withBias: true, withResidual: true, seed: 11);
        var y = new float[m * n];
        Gemm.Multiply(p.X, m, Gemm.Pack(p.W, n, k), p.Bias, y, Epilogue.Gelu, p.Residual);
        p.AssertClose(y, Epilogue.Gelu);
    }

    /// <summary>
    /// Batch invariance: a row of Y is bit-identical whether it is computed alone (M = 1), in a short block
    /// (M = 3) or inside a large one (M = 19: row blocks of 7/6/6 at MR = 8, 5/5/5/4 at MR = 6) — every row block
    /// size runs the same FMA chain per element over the same K blocks. The engine relies on it: a sentence
    /// classified alone and inside a batch gets the same bits, so the same exit decision.
    /// </summary>
    [Theory]
    [MemberData(nameof(InvarianceCases))]
    public void RowsDoNotDependOnHowManyRowsShareTheCall(IsaPath path, int k)
    {
        const int m = 19, n = 45;
        var p = Problem.Create(m, n, k, withBias: true, withResidual: true, seed: 17 + k);
        var packed = Gemm.Pack(p.W, n, k, path);
        var all = new float[m * n];
        Gemm.Multiply(p.X, m, packed, p.Bias, all, Epilogue.Gelu, p.Residual, null, path);
        var alone = new float[n];
        var three = new float[3 * n];
        for (int i = 0; i < m; i++)
        {
            Gemm.Multiply(p.X.AsSpan(i * k, k), 1, packed, p.Bias, alone, Epilogue.Gelu, p.Residual.AsSpan(i * n, n), null, path);
            Assert.True(all.AsSpan(i * n, n).SequenceEqual(alone), $"{path}, K = {k}: row {i} alone differs from row {i} of {m}");
            if (i + 3 > m) continue;
            Gemm.Multiply(p.X.AsSpan(i * k, 3 * k), 3, packed, p.Bias, three, Epilogue.Gelu, p.Residual.AsSpan(i * n, 3 * n), null, path);
            Assert.True(all.AsSpan(i * n, 3 * n).SequenceEqual(three), $"{path}, K = {k}: rows {i}..{i + 2} as a block of 3 differ from the same rows of {m}");
        }
    }

    public static TheoryData<IsaPath, int> InvarianceCases()
    {
        var data = new TheoryData<IsaPath, int>();
        foreach (var path in Enum.GetValues<IsaPath>())
        {
            data.Add(path, 37);
            if (Accelerated(path)) data.Add(path, 800); // two K blocks (KC = 768)
        }
        return data;
    }

    /// <summary>Each element's sum runs over the same K blocks in the same order whatever the split, so threaded output is bit-identical.</summary>
    [Theory]
    [InlineData(25, 1152, 384, 2)]
    [InlineData(1, 3072, 768, 2)]
    [InlineData(129, 33, 768, 2)] // 2 panels at NR = 32: rows are split too
    public void ThreadedEqualsSingleThreaded(int m, int n, int k, int threads)
    {
        var p = Problem.Create(m, n, k, withBias: true, withResidual: true, seed: 3);
        var packed = Gemm.Pack(p.W, n, k);
        var single = new float[m * n];
        var threaded = new float[m * n];
        Gemm.Multiply(p.X, m, packed, p.Bias, single, Epilogue.Gelu, p.Residual);
        using var pool = new WorkerPool(threads);
        Gemm.Multiply(p.X, m, packed, p.Bias, threaded, Epilogue.Gelu, p.Residual, pool);
        Assert.Equal(single, threaded);
    }

    [Theory]
    [Trait("Size", "Large")]
    [InlineData(128, 768, 768, 2)]
    [InlineData(33, 129, 3072, 3)]
    public void ThreadedEqualsSingleThreadedOnLargeShapes(int m, int n, int k, int threads)
        => ThreadedEqualsSingleThreaded(m, n, k, threads);

    [Fact]
    public void SteadyStateCallAllocatesNothing()
    {
        const int m = 25, n = 1152, k = 384;
        var p = Problem.Create(m, n, k, withBias: true, withResidual: true, seed: 1);
        var packed = Gemm.Pack(p.W, n, k);
        var y = new float[m * n];
        using var pool = new WorkerPool(2);
        // Warm-up past the JIT's tier-up threshold (30 calls): under emulation (arm64 in qemu) the
        // tier-0 → tier-1 switch otherwise lands inside the measured loop and shows up as 24 bytes.
        for (int i = 0; i < 40; i++)
        {
            Gemm.Multiply(p.X, m, packed, p.Bias, y, Epilogue.Gelu, p.Residual, pool);
            Gemm.Multiply(p.X, m, packed, p.Bias, y, Epilogue.Tanh, default, null);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            Gemm.Multiply(p.X, m, packed, p.Bias, y, Epilogue.Gelu, p.Residual, pool);
            Gemm.Multiply(p.X, m, packed, p.Bias, y, Epilogue.Tanh, default, null);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ZeroRowsIsANoOp()
    {
        var packed = Gemm.Pack(new float[6], 2, 3);
        Gemm.Multiply(ReadOnlySpan<float>.Empty, 0, packed, default, Span<float>.Empty);
    }

    [Fact]
    public void RejectsBadShapesNamingTheOperand()
    {
        var packed = Gemm.Pack(new float[12], 3, 4);
        Assert.Contains("M·K", Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[7], 2, packed, default, new float[6])).Message);
        Assert.Contains("M·N", Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[8], 2, packed, default, new float[5])).Message);
        Assert.Contains("bias", Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[8], 2, packed, new float[2], new float[6])).Message);
        Assert.Contains("residual", Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[8], 2, packed, default, new float[6], Epilogue.None, new float[5])).Message);
    }

    [Fact]
    public void RejectsOverlapAndForeignPacking()
    {
        var buffer = new float[64];
        var packed = Gemm.Pack(new float[16], 4, 4);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(buffer.AsSpan(0, 8), 2, packed, default, buffer.AsSpan(4, 8)));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[8], 2, packed, default, buffer.AsSpan(0, 8), Epilogue.None, buffer.AsSpan(0, 8)));
        var other = Gemm.Pack(new float[16], 4, 4, Isa.Active == IsaPath.Scalar ? IsaPath.Vector128 : IsaPath.Scalar);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[8], 2, other, default, new float[8]));
    }

    internal sealed class Problem
    {
        public required int M, N, K;
        public required float[] X, W, Bias, Residual;

        public static Problem Create(int m, int n, int k, bool withBias, bool withResidual, int seed)
        {
            var rng = new Random(seed);
            float[] Fill(int count, float scale)
            {
                var a = new float[count];
                for (int i = 0; i < count; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
                return a;
            }
            // W scaled like a trained layer (~1/√K) so pre-activations span GELU's curved region, not only its linear tails.
            return new Problem
            {
                M = m, N = n, K = k,
                X = Fill(m * k, 1f),
                W = Fill(n * k, 2f / MathF.Sqrt(k)),
                Bias = withBias ? Fill(n, 0.5f) : [],
                Residual = withResidual ? Fill(m * n, 1f) : [],
            };
        }

        public void AssertClose(float[] y, Epilogue epilogue)
        {
            var expected = new float[M * N];
            Gemm.MultiplyReference(X, M, W, N, K, Bias, expected, epilogue, Residual);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++)
                {
                    double scale = 0;
                    for (int p = 0; p < K; p++) scale += Math.Abs((double)X[i * K + p] * W[j * K + p]);
                    if (Bias.Length > 0) scale += Math.Abs(Bias[j]);
                    if (Residual.Length > 0) scale += Math.Abs(Residual[i * N + j]);
                    double err = Math.Abs((double)y[i * N + j] - expected[i * N + j]);
                    if (!(err <= 1e-5 * scale))
                        Assert.Fail($"Y[{i},{j}] = {y[i * N + j]}, reference {expected[i * N + j]}: error {err:G3} > 1e-5 · {scale:G4} (M={M} N={N} K={K} {epilogue})");
                }
        }
    }
}
