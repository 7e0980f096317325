using System.Diagnostics;
using System.Globalization;
using NativeEE.Kernels;

namespace NativeEE.Bench;

/// <summary>
/// <c>gemm-table</c>: the GEMM shapes of <see cref="GemmBenchmarks"/> (and the M = 1 dot-loop baseline of
/// <see cref="GemvBenchmarks"/>) timed the same way as the FMA-peak probe, in one process, as a markdown
/// table. Each figure comes from many short trials (~3 ms): the median shows the machine as it is, the
/// best trial the kernel with the core to itself — on a CPU shared with other work, a long
/// BenchmarkDotNet iteration mostly measures the share of the core it got, for the probe as much as
/// for the GEMM.
/// Usage: <c>gemm-table [--threads 1,2] [--trials 30] [--filter text]</c>; the AVX2 path:
/// <c>DOTNET_EnableAVX512=0</c>.
/// </summary>
internal static class GemmTable
{
    const double TrialSeconds = 0.003;

    public static void Run(string[] args)
    {
        int[] threadCounts = [1, 2];
        int trials = 30;
        string? filter = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--threads": threadCounts = args[i + 1].Split(',').Select(int.Parse).ToArray(); break;
                case "--trials": trials = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--filter": filter = args[i + 1]; break;
                default: throw new ArgumentException($"gemm-table: unknown option {args[i]} (known: --threads, --trials, --filter).");
            }
        }

        var path = Isa.Active;
        long chainIterations = 1 << 14;
        double chainFlops = 2.0 * chainIterations * FmaPeak.ChainCount(path) * FmaPeak.Lanes(path);
        var peak = Measure(() => FmaPeak.Run(path, chainIterations), chainFlops, trials);
        Console.WriteLine($"ISA path: {Isa.Description}. FMA peak of one core (independent chains): " +
                          $"best {peak.Best:F1}, median {peak.Median:F1} GFLOP/s. {trials} trials of ~{TrialSeconds * 1e3:F0} ms per row.");
        Console.WriteLine();
        Console.WriteLine("| M×K×N | threads | GFLOP/s median | GFLOP/s best | % peak (best) | p10–p90 GFLOP/s | note |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");

        foreach (var shape in GemmBenchmarks.Shapes())
        {
            if (filter is not null && !shape.ToString().Contains(filter, StringComparison.Ordinal)) continue;
            var rng = new Random(42);
            var x = GemmBenchmarks.Random(rng, shape.M * shape.K);
            var w = GemmBenchmarks.Random(rng, shape.N * shape.K);
            var bias = GemmBenchmarks.Random(rng, shape.N);
            var y = new float[shape.M * shape.N];
            var packed = Gemm.Pack(w, shape.N, shape.K);
            double singleBest = 0;
            foreach (int threads in threadCounts)
            {
                using var pool = threads > 1 ? new WorkerPool(threads) : null;
                var r = Measure(() => Gemm.Multiply(x, shape.M, packed, bias, y, Epilogue.None, default, pool), shape.Flops, trials);
                string note = "";
                if (threads == 1) singleBest = r.Best;
                else if (singleBest > 0) note = $"{r.Best / singleBest:F2}× 1 thread";
                if (shape.M == 1 && threads == 1)
                {
                    var dot = Measure(() => DotLoop(x, w, y, shape.K), shape.Flops, trials);
                    note = $"plain dot loop: best {dot.Best:F1} → {r.Best / dot.Best:F2}×";
                }
                Console.WriteLine($"| {shape} | {threads} | {r.Median:F1} | {r.Best:F1} | {100 * r.Best / (peak.Best * threads):F0} | {r.P10:F1}–{r.P90:F1} | {note} |");
            }
        }
    }

    readonly record struct Rates(double Best, double Median, double P10, double P90);

    /// <summary>GFLOP/s over <paramref name="trials"/> trials of about <see cref="TrialSeconds"/> each, after 200 ms of warm-up.</summary>
    static Rates Measure(Action op, double flopsPerCall, int trials)
    {
        var warm = Stopwatch.StartNew();
        int calls = 0;
        while (warm.ElapsedMilliseconds < 200 || calls < 3)
        {
            op();
            calls++;
        }
        int reps = Math.Max(1, (int)(calls * TrialSeconds / warm.Elapsed.TotalSeconds));
        var rates = new double[trials];
        for (int t = 0; t < trials; t++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < reps; i++) op();
            rates[t] = flopsPerCall * reps / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
        }
        Array.Sort(rates);
        return new Rates(rates[^1], rates[trials / 2], rates[trials / 10], rates[trials - 1 - trials / 10]);
    }

    /// <summary>The baseline of <see cref="GemvBenchmarks.DotLoop"/>: one dot product per row of the unpacked W[N,K].</summary>
    static void DotLoop(float[] x, float[] w, float[] y, int k)
    {
        for (int j = 0; j < y.Length; j++) y[j] = GemvBenchmarks.Dot(x, w.AsSpan(j * k, k));
    }
}
