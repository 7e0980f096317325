using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NativeEE.Kernels;

namespace NativeEE.Bench.E2e;

/// <summary>
/// The machine's FMA peak on the vector width the kernels use, measured with independent FMA chains (enough of
/// them to cover FMA latency × FMA ports on current x86 and Arm cores), one chain set per thread, all threads at once.
/// Each thread's rate is taken over its own CPU time (<see cref="ThreadClock"/>), so time spent waiting for a core
/// on a shared machine does not lower the peak; the total is the sum of the threads' rates.
/// </summary>
internal static class FmaPeak
{
    const int Chains = 16;
    const long Iterations = 20_000_000;

    /// <summary>Best of <paramref name="trials"/> runs of <paramref name="threads"/> concurrent threads, total GFLOP/s.</summary>
    public static double Measure(int threads, int trials = 5)
    {
        double best = 0;
        for (int t = 0; t < trials; t++) best = Math.Max(best, Once(threads));
        return best;
    }

    static double Once(int threads)
    {
        using var start = new Barrier(threads + 1);
        var rates = new double[threads];
        var sinks = new float[threads];
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            int id = i;
            workers[i] = new Thread(() =>
            {
                start.SignalAndWait();
                long t0 = ThreadClock.NowNs();
                sinks[id] = Chain(Iterations, id + 1);
                rates[id] = (double)Iterations * Chains * Lanes * 2 / (ThreadClock.NowNs() - t0);
            }) { IsBackground = true };
            workers[i].Start();
        }
        start.SignalAndWait();
        foreach (var w in workers) w.Join();
        GC.KeepAlive(sinks);
        return rates.Sum();
    }

    /// <summary>Floats per FMA on the active path (the scalar path is measured, like Vector128, on 4 lanes).</summary>
    public static int Lanes => Isa.Active switch
    {
        IsaPath.Vector512 => Vector512<float>.Count,
        IsaPath.Vector256 => Vector256<float>.Count,
        _ => Vector128<float>.Count,
    };

    static float Chain(long iterations, int seed) => Isa.Active switch
    {
        IsaPath.Vector512 => Chain512(iterations, seed),
        IsaPath.Vector256 => Chain256(iterations, seed),
        _ => Chain128(iterations, seed),
    };

    // 16 accumulators written out so the JIT keeps each in its own register (arrays of vectors would spill).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Chain512(long iterations, int seed)
    {
        var a = Vector512.Create(0.999999f);
        var b = Vector512.Create(1e-7f * seed);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
            c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
            c12 = Vector512.FusedMultiplyAdd(c12, a, b); c13 = Vector512.FusedMultiplyAdd(c13, a, b);
            c14 = Vector512.FusedMultiplyAdd(c14, a, b); c15 = Vector512.FusedMultiplyAdd(c15, a, b);
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Chain256(long iterations, int seed)
    {
        var a = Vector256.Create(0.999999f);
        var b = Vector256.Create(1e-7f * seed);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
            c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
            c12 = Vector256.FusedMultiplyAdd(c12, a, b); c13 = Vector256.FusedMultiplyAdd(c13, a, b);
            c14 = Vector256.FusedMultiplyAdd(c14, a, b); c15 = Vector256.FusedMultiplyAdd(c15, a, b);
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Chain128(long iterations, int seed)
    {
        var a = Vector128.Create(0.999999f);
        var b = Vector128.Create(1e-7f * seed);
        Vector128<float> c0 = Vector128.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
            c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, a, b); c1 = Vector128.FusedMultiplyAdd(c1, a, b);
            c2 = Vector128.FusedMultiplyAdd(c2, a, b); c3 = Vector128.FusedMultiplyAdd(c3, a, b);
            c4 = Vector128.FusedMultiplyAdd(c4, a, b); c5 = Vector128.FusedMultiplyAdd(c5, a, b);
            c6 = Vector128.FusedMultiplyAdd(c6, a, b); c7 = Vector128.FusedMultiplyAdd(c7, a, b);
            c8 = Vector128.FusedMultiplyAdd(c8, a, b); c9 = Vector128.FusedMultiplyAdd(c9, a, b);
            c10 = Vector128.FusedMultiplyAdd(c10, a, b); c11 = Vector128.FusedMultiplyAdd(c11, a, b);
            c12 = Vector128.FusedMultiplyAdd(c12, a, b); c13 = Vector128.FusedMultiplyAdd(c13, a, b);
            c14 = Vector128.FusedMultiplyAdd(c14, a, b); c15 = Vector128.FusedMultiplyAdd(c15, a, b);
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector128.Sum(s);
    }
}
