using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeEE.Kernels;

/// <summary>What <see cref="FmaPeak.Measure"/> found: fp32 fused multiply-add throughput at the active vector width.</summary>
/// <param name="Path">The vector width the probe ran at (<see cref="Isa.Active"/>).</param>
/// <param name="Threads">Threads that ran the probe at once for <paramref name="AllThreadsGflops"/>.</param>
/// <param name="PerCoreGflops">One thread alone, in GFLOP/s (an FMA counts as 2 FLOPs).</param>
/// <param name="AllThreadsGflops">Sum over <paramref name="Threads"/> threads running together, in GFLOP/s.</param>
public readonly record struct FmaPeakResult(IsaPath Path, int Threads, double PerCoreGflops, double AllThreadsGflops);

/// <summary>
/// Measures the machine's practical fp32 FMA peak: independent multiply-add chains on registers, no memory
/// traffic, at the width the kernels use. "% of peak" figures divide by this, measured in the same process and
/// moment as the work they judge, instead of a datasheet number that ignores turbo, SMT and a neighbour's load.
/// </summary>
public static class FmaPeak
{
    // FMA latency is 4–5 cycles on current x64 and arm64 cores with up to 2 FMA pipes, so ≥ 10 independent
    // chains keep both pipes busy. 12 chains + 2 constants fit the 16 registers of AVX2/SSE without spills;
    // AVX-512 has 32, so it gets 16 chains.
    const int WideChains = 16, Chains = 12;
    const int ChunkIterations = 4096;

    /// <summary>
    /// Runs the probe for <paramref name="duration"/> on one thread, then on <paramref name="threads"/> threads at
    /// once for the same time (skipped when <paramref name="threads"/> is 1).
    /// </summary>
    public static FmaPeakResult Measure(int threads, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (duration <= TimeSpan.Zero || duration > TimeSpan.FromMinutes(1))
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "The probe duration must be in (0, 1 min].");
        Probe(TimeSpan.FromMilliseconds(Math.Min(20, duration.TotalMilliseconds))); // warm-up: clocks ramp, code is hot
        double single = Probe(duration);
        double all = threads == 1 ? single : ProbeConcurrently(threads, duration);
        return new FmaPeakResult(Isa.Active, threads, single, all);
    }

    /// <summary>GFLOP/s of one thread running FMA chunks until <paramref name="duration"/> has passed.</summary>
    static double Probe(TimeSpan duration)
    {
        long ticks = (long)(duration.TotalSeconds * Stopwatch.Frequency), chunks = 0;
        float sink = 0;
        long start = Stopwatch.GetTimestamp(), now;
        do
        {
            sink += RunChunk();
            chunks++;
            now = Stopwatch.GetTimestamp();
        }
        while (now - start < ticks);
        // The sink is consumed so the chains cannot be optimised away; it is NaN only if arithmetic went wrong.
        if (float.IsNaN(sink)) throw new InvalidOperationException("The FMA probe produced NaN.");
        return chunks * FlopsPerChunk(Isa.Active) / ((double)(now - start) / Stopwatch.Frequency) / 1e9;
    }

    static double ProbeConcurrently(int threads, TimeSpan duration)
    {
        var rates = new double[threads];
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                rates[id] = Probe(duration);
            }) { IsBackground = true, Name = "FmaPeak" };
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
        double sum = 0;
        foreach (double r in rates) sum += r;
        return sum;
    }

    /// <summary>FLOPs of one <see cref="RunChunk(IsaPath, bool)"/> on <paramref name="path"/> (a multiply-add counts 2).</summary>
    internal static double FlopsPerChunk(IsaPath path) => 2.0 * ChunkIterations * ChainValues(path);

    static float RunChunk() => RunChunk(Isa.Active, Isa.HasFma);

    /// <summary>Independent multiply-add chains × vector lanes one chunk iteration advances on <paramref name="path"/>.</summary>
    internal static int ChainValues(IsaPath path) => path switch
    {
        IsaPath.Vector512 => WideChains * Vector512<float>.Count,
        IsaPath.Vector256 => Chains * Vector256<float>.Count,
        IsaPath.Vector128 => Chains * Vector128<float>.Count,
        _ => Chains,
    };

    /// <summary>
    /// One chunk on <paramref name="path"/>: every chain value c starts at 1 and runs c ← c·M + A for
    /// <see cref="ChunkIterations"/> steps; returns the sum of all chain values (a closed form tests can check).
    /// </summary>
    internal static float RunChunk(IsaPath path, bool fma) => path switch
    {
        IsaPath.Vector512 => Chunk512(),
        IsaPath.Vector256 => Chunk256(),
        IsaPath.Vector128 when fma => Chunk128(),
        IsaPath.Vector128 => Chunk128NoFma(),
        _ => ChunkScalar(),
    };

    internal const int ChunkSteps = ChunkIterations;
    internal const float Multiplier = M, Addend = A;

    // c ← c·M + A converges to A / (1 − M) = 0.5: every chain stays finite and far from denormals however long it runs.
    const float M = 0.999f, A = 0.0005f;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chunk512()
    {
        Vector512<float> m = Vector512.Create(M), a = Vector512.Create(A);
        Vector512<float> c0 = Vector512<float>.One, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector512<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (int i = 0; i < ChunkIterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
            c12 = Vector512.FusedMultiplyAdd(c12, m, a); c13 = Vector512.FusedMultiplyAdd(c13, m, a);
            c14 = Vector512.FusedMultiplyAdd(c14, m, a); c15 = Vector512.FusedMultiplyAdd(c15, m, a);
        }
        return Vector512.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15)));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chunk256()
    {
        Vector256<float> m = Vector256.Create(M), a = Vector256.Create(A);
        Vector256<float> c0 = Vector256<float>.One, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector256<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < ChunkIterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chunk128()
    {
        Vector128<float> m = Vector128.Create(M), a = Vector128.Create(A);
        Vector128<float> c0 = Vector128<float>.One, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector128<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < ChunkIterations; i++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, m, a); c1 = Vector128.FusedMultiplyAdd(c1, m, a);
            c2 = Vector128.FusedMultiplyAdd(c2, m, a); c3 = Vector128.FusedMultiplyAdd(c3, m, a);
            c4 = Vector128.FusedMultiplyAdd(c4, m, a); c5 = Vector128.FusedMultiplyAdd(c5, m, a);
            c6 = Vector128.FusedMultiplyAdd(c6, m, a); c7 = Vector128.FusedMultiplyAdd(c7, m, a);
            c8 = Vector128.FusedMultiplyAdd(c8, m, a); c9 = Vector128.FusedMultiplyAdd(c9, m, a);
            c10 = Vector128.FusedMultiplyAdd(c10, m, a); c11 = Vector128.FusedMultiplyAdd(c11, m, a);
        }
        return Vector128.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    // SSE without FMA: a multiply and an add are the same 2 FLOPs in two instructions (a software FMA would be far slower).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Chunk128NoFma()
    {
        Vector128<float> m = Vector128.Create(M), a = Vector128.Create(A);
        Vector128<float> c0 = Vector128<float>.One, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector128<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < ChunkIterations; i++)
        {
            c0 = c0 * m + a; c1 = c1 * m + a; c2 = c2 * m + a; c3 = c3 * m + a;
            c4 = c4 * m + a; c5 = c5 * m + a; c6 = c6 * m + a; c7 = c7 * m + a;
            c8 = c8 * m + a; c9 = c9 * m + a; c10 = c10 * m + a; c11 = c11 * m + a;
        }
        return Vector128.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    // The scalar kernels are plain multiply-adds too.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float ChunkScalar()
    {
        float c0 = 1f, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < ChunkIterations; i++)
        {
            c0 = c0 * M + A; c1 = c1 * M + A; c2 = c2 * M + A; c3 = c3 * M + A;
            c4 = c4 * M + A; c5 = c5 * M + A; c6 = c6 * M + A; c7 = c7 * M + A;
            c8 = c8 * M + A; c9 = c9 * M + A; c10 = c10 * M + A; c11 = c11 * M + A;
        }
        return ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
    }
}
