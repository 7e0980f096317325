using System.Numerics;
using BenchmarkDotNet.Attributes;
using NativeEE.Kernels;

namespace NativeEE.Bench;

/// <summary>One GEMM problem: X[M,K] · W[N,K]ᵀ → Y[M,N].</summary>
public sealed record GemmShape(int M, int K, int N)
{
    public double Flops => 2.0 * M * K * N;
    public override string ToString() => $"{M}x{K}x{N}";
}

/// <summary>
/// <c>Gemm.Multiply</c> on BERT-base shapes (M = tokens; (K,N) = QKV, attention out, FFN up, FFN down),
/// 1024³, and MiniLM shapes at a typical sentence (M = 25). Reported as GFLOP/s and % of the FMA
/// peak measured in this run (columns added by <see cref="BenchConfig"/>).
/// </summary>
[Config(typeof(BenchConfig))]
public class GemmBenchmarks
{
    public static IEnumerable<GemmShape> Shapes()
    {
        (int K, int N)[] bert = [(768, 768), (768, 2304), (768, 3072), (3072, 768)];
        foreach (int m in new[] { 1, 8, 32, 128, 512 })
            foreach (var (k, n) in bert)
                yield return new GemmShape(m, k, n);
        yield return new GemmShape(1024, 1024, 1024);
        foreach (var (k, n) in new[] { (384, 1152), (384, 384), (384, 1536), (1536, 384) })
            yield return new GemmShape(25, k, n);
    }

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new(1, 1, 1);

    [Params(1, 2)]
    public int Threads { get; set; }

    float[] _x = [], _bias = [], _y = [];
    PackedMatrix? _w;
    WorkerPool? _pool;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _x = Random(rng, Shape.M * Shape.K);
        _w = Gemm.Pack(Random(rng, Shape.N * Shape.K), Shape.N, Shape.K);
        _bias = Random(rng, Shape.N);
        _y = new float[Shape.M * Shape.N];
        _pool = Threads > 1 ? new WorkerPool(Threads) : null;
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public void Multiply() => Gemm.Multiply(_x, Shape.M, _w!, _bias, _y, Epilogue.None, default, _pool);

    internal static float[] Random(Random rng, int count)
    {
        var a = new float[count];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}

/// <summary>
/// M = 1 (one token: a GEMV, bound by streaming W) against the plain alternative: one dot product
/// per row of the unpacked W[N,K], a single vector accumulator per row.
/// </summary>
[Config(typeof(BenchConfig))]
public class GemvBenchmarks
{
    public static IEnumerable<GemmShape> Shapes() =>
        [new(1, 768, 768), new(1, 768, 2304), new(1, 768, 3072), new(1, 3072, 768)];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new(1, 1, 1);

    public int Threads => 1;

    float[] _x = [], _w = [], _y = [];
    PackedMatrix? _packed;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _x = GemmBenchmarks.Random(rng, Shape.K);
        _w = GemmBenchmarks.Random(rng, Shape.N * Shape.K);
        _packed = Gemm.Pack(_w, Shape.N, Shape.K);
        _y = new float[Shape.N];
    }

    [Benchmark(Baseline = true)]
    public void DotLoop()
    {
        int k = Shape.K;
        ReadOnlySpan<float> x = _x;
        for (int j = 0; j < _y.Length; j++) _y[j] = Dot(x, _w.AsSpan(j * k, k));
    }

    [Benchmark]
    public void Multiply() => Gemm.Multiply(_x, 1, _packed!, default, _y);

    static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            acc = Vector.MultiplyAddEstimate(new Vector<float>(a[i..]), new Vector<float>(b[i..]), acc);
        float sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
