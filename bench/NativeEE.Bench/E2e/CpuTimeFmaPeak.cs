using NativeEE.Kernels;
using Probe = NativeEE.Kernels.FmaPeak;

namespace NativeEE.Bench.E2e;

/// <summary>
/// The machine's FMA peak on the vector width the kernels use: the library's FMA chains (<see cref="NativeEE.Kernels.FmaPeak"/>),
/// one chain set per thread, all threads at once.
/// Each thread's rate is taken over its own CPU time (<see cref="ThreadClock"/>), so time spent waiting for a core
/// on a shared machine does not lower the peak; the total is the sum of the threads' rates. The library's
/// <see cref="NativeEE.Kernels.FmaPeak"/> divides by wall time, which on this shared machine read 26 GFLOP/s for a
/// core that does 200 — right for an idle box, wrong for the 1-thread rows here, which are judged on CPU time too.
/// </summary>
internal static class CpuTimeFmaPeak
{
    /// <summary>Chunks per thread and trial: ~80 M FMA lanes on AVX-512, about 0.1 s at 200 GFLOP/s.</summary>
    const int Chunks = 5000;

    /// <summary>Best of <paramref name="trials"/> runs of <paramref name="threads"/> concurrent threads, total GFLOP/s.</summary>
    public static double Measure(int threads, int trials = 5)
    {
        double best = 0;
        for (int t = 0; t < trials; t++) best = Math.Max(best, Once(threads));
        return best;
    }

    /// <summary>Independent FMA chain values (chains × vector lanes) one thread runs on the active path.</summary>
    public static int ChainValues => Probe.ChainValues(Isa.Active);

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
                float sink = 0;
                for (int c = 0; c < Chunks; c++) sink += Probe.RunChunk(Isa.Active, Isa.HasFma);
                sinks[id] = sink;
                rates[id] = Chunks * Probe.FlopsPerChunk(Isa.Active) / (ThreadClock.NowNs() - t0);
            }) { IsBackground = true };
            workers[i].Start();
        }
        start.SignalAndWait();
        foreach (var w in workers) w.Join();
        GC.KeepAlive(sinks);
        return rates.Sum();
    }
}
