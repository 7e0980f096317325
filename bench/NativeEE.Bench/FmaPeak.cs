using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using BenchmarkDotNet.Attributes;
using NativeEE.Kernels;

namespace NativeEE.Bench;

/// <summary>
/// The FMA peak of one core, per vector width: independent multiply-add chains (more than pipes ×
/// latency, so nothing waits) with no memory traffic. Every GEMM figure is reported as a share of
/// this number, measured on the same machine in the same run.
/// </summary>
[Config(typeof(BenchConfig))]
public class FmaPeak
{
    const long Iterations = 1 << 20;
    const int ChainsX64 = 12; // > 2 pipes × 4 cycles latency on x64
    const int ChainsNeon = 24;

    /// <summary>The widths this CPU runs natively (an emulated width would measure the emulation).</summary>
    public static IEnumerable<IsaPath> Widths() =>
        Enum.GetValues<IsaPath>().Where(p => p == IsaPath.Scalar || p <= Isa.Active);

    [ParamsSource(nameof(Widths))]
    public IsaPath Width { get; set; }

    /// <summary>Floating-point operations of one benchmark invocation (a multiply-add counts 2).</summary>
    internal static double Flops(IsaPath width) => 2.0 * Iterations * ChainCount(width) * Lanes(width);

    [Benchmark]
    public float Chains() => Run(Width, Iterations);

    static int Lanes(IsaPath path) => path switch { IsaPath.Vector512 => 16, IsaPath.Vector256 => 8, IsaPath.Vector128 => 4, _ => 1 };

    static int ChainCount(IsaPath path) => path == IsaPath.Vector128 && AdvSimd.IsSupported ? ChainsNeon : ChainsX64;

    static float Run(IsaPath path, long iterations) => path switch
    {
        IsaPath.Vector512 => Chains512(iterations, 1.0001f),
        IsaPath.Vector256 => Chains256(iterations, 1.0001f),
        IsaPath.Vector128 when AdvSimd.IsSupported => Chains128Neon(iterations, 1.0001f),
        IsaPath.Vector128 => Chains128(iterations, 1.0001f),
        _ => ChainsScalar(iterations, 1.0001f),
    };

    /// <summary>GFLOP/s of one core on the active path's width: best of repeated short probes (the least disturbed by other processes).</summary>
    internal static double MeasurePeak(IsaPath path)
    {
        const long iterations = 1 << 16;
        double best = 0;
        var total = Stopwatch.StartNew();
        while (total.ElapsedMilliseconds < 1500)
        {
            long start = Stopwatch.GetTimestamp();
            float sink = Run(path, iterations);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (sink != 42f) best = Math.Max(best, 2.0 * iterations * ChainCount(path) * Lanes(path) / seconds / 1e9);
        }
        return best;
    }

    // MultiplyAddEstimate: a fused FMA where the CPU has one (as the GEMM microkernels use), mul+add otherwise.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chains512(long iterations, float seed)
    {
        var a = Vector512.Create(seed);
        var b = Vector512.Create(0.9999f);
        Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.MultiplyAddEstimate(c0, b, a); c1 = Vector512.MultiplyAddEstimate(c1, b, a);
            c2 = Vector512.MultiplyAddEstimate(c2, b, a); c3 = Vector512.MultiplyAddEstimate(c3, b, a);
            c4 = Vector512.MultiplyAddEstimate(c4, b, a); c5 = Vector512.MultiplyAddEstimate(c5, b, a);
            c6 = Vector512.MultiplyAddEstimate(c6, b, a); c7 = Vector512.MultiplyAddEstimate(c7, b, a);
            c8 = Vector512.MultiplyAddEstimate(c8, b, a); c9 = Vector512.MultiplyAddEstimate(c9, b, a);
            c10 = Vector512.MultiplyAddEstimate(c10, b, a); c11 = Vector512.MultiplyAddEstimate(c11, b, a);
        }
        return ((c0 + c1 + c2 + c3) + (c4 + c5 + c6 + c7) + (c8 + c9 + c10 + c11)).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chains256(long iterations, float seed)
    {
        var a = Vector256.Create(seed);
        var b = Vector256.Create(0.9999f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.MultiplyAddEstimate(c0, b, a); c1 = Vector256.MultiplyAddEstimate(c1, b, a);
            c2 = Vector256.MultiplyAddEstimate(c2, b, a); c3 = Vector256.MultiplyAddEstimate(c3, b, a);
            c4 = Vector256.MultiplyAddEstimate(c4, b, a); c5 = Vector256.MultiplyAddEstimate(c5, b, a);
            c6 = Vector256.MultiplyAddEstimate(c6, b, a); c7 = Vector256.MultiplyAddEstimate(c7, b, a);
            c8 = Vector256.MultiplyAddEstimate(c8, b, a); c9 = Vector256.MultiplyAddEstimate(c9, b, a);
            c10 = Vector256.MultiplyAddEstimate(c10, b, a); c11 = Vector256.MultiplyAddEstimate(c11, b, a);
        }
        return ((c0 + c1 + c2 + c3) + (c4 + c5 + c6 + c7) + (c8 + c9 + c10 + c11)).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chains128(long iterations, float seed)
    {
        var a = Vector128.Create(seed);
        var b = Vector128.Create(0.9999f);
        Vector128<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.MultiplyAddEstimate(c0, b, a); c1 = Vector128.MultiplyAddEstimate(c1, b, a);
            c2 = Vector128.MultiplyAddEstimate(c2, b, a); c3 = Vector128.MultiplyAddEstimate(c3, b, a);
            c4 = Vector128.MultiplyAddEstimate(c4, b, a); c5 = Vector128.MultiplyAddEstimate(c5, b, a);
            c6 = Vector128.MultiplyAddEstimate(c6, b, a); c7 = Vector128.MultiplyAddEstimate(c7, b, a);
            c8 = Vector128.MultiplyAddEstimate(c8, b, a); c9 = Vector128.MultiplyAddEstimate(c9, b, a);
            c10 = Vector128.MultiplyAddEstimate(c10, b, a); c11 = Vector128.MultiplyAddEstimate(c11, b, a);
        }
        return ((c0 + c1 + c2 + c3) + (c4 + c5 + c6 + c7) + (c8 + c9 + c10 + c11)).ToScalar();
    }

    /// <summary>NEON has 32 registers and up to 4 FMA pipes: 24 chains keep them all busy.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chains128Neon(long iterations, float seed)
    {
        var a = Vector128.Create(seed);
        var b = Vector128.Create(0.9999f);
        Vector128<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        Vector128<float> d0 = a, d1 = a, d2 = a, d3 = a, d4 = a, d5 = a, d6 = a, d7 = a, d8 = a, d9 = a, d10 = a, d11 = a;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.MultiplyAddEstimate(c0, b, a); c1 = Vector128.MultiplyAddEstimate(c1, b, a);
            c2 = Vector128.MultiplyAddEstimate(c2, b, a); c3 = Vector128.MultiplyAddEstimate(c3, b, a);
            c4 = Vector128.MultiplyAddEstimate(c4, b, a); c5 = Vector128.MultiplyAddEstimate(c5, b, a);
            c6 = Vector128.MultiplyAddEstimate(c6, b, a); c7 = Vector128.MultiplyAddEstimate(c7, b, a);
            c8 = Vector128.MultiplyAddEstimate(c8, b, a); c9 = Vector128.MultiplyAddEstimate(c9, b, a);
            c10 = Vector128.MultiplyAddEstimate(c10, b, a); c11 = Vector128.MultiplyAddEstimate(c11, b, a);
            d0 = Vector128.MultiplyAddEstimate(d0, b, a); d1 = Vector128.MultiplyAddEstimate(d1, b, a);
            d2 = Vector128.MultiplyAddEstimate(d2, b, a); d3 = Vector128.MultiplyAddEstimate(d3, b, a);
            d4 = Vector128.MultiplyAddEstimate(d4, b, a); d5 = Vector128.MultiplyAddEstimate(d5, b, a);
            d6 = Vector128.MultiplyAddEstimate(d6, b, a); d7 = Vector128.MultiplyAddEstimate(d7, b, a);
            d8 = Vector128.MultiplyAddEstimate(d8, b, a); d9 = Vector128.MultiplyAddEstimate(d9, b, a);
            d10 = Vector128.MultiplyAddEstimate(d10, b, a); d11 = Vector128.MultiplyAddEstimate(d11, b, a);
        }
        return ((c0 + c1 + c2 + c3) + (c4 + c5 + c6 + c7) + (c8 + c9 + c10 + c11)
              + (d0 + d1 + d2 + d3) + (d4 + d5 + d6 + d7) + (d8 + d9 + d10 + d11)).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float ChainsScalar(long iterations, float seed)
    {
        float c0 = seed, c1 = seed, c2 = seed, c3 = seed, c4 = seed, c5 = seed, c6 = seed, c7 = seed, c8 = seed, c9 = seed, c10 = seed, c11 = seed;
        const float b = 0.9999f;
        for (long i = 0; i < iterations; i++)
        {
            c0 = c0 * b + seed; c1 = c1 * b + seed; c2 = c2 * b + seed; c3 = c3 * b + seed;
            c4 = c4 * b + seed; c5 = c5 * b + seed; c6 = c6 * b + seed; c7 = c7 * b + seed;
            c8 = c8 * b + seed; c9 = c9 * b + seed; c10 = c10 * b + seed; c11 = c11 * b + seed;
        }
        return (c0 + c1 + c2 + c3) + (c4 + c5 + c6 + c7) + (c8 + c9 + c10 + c11);
    }
}
