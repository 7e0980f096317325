using System.Diagnostics;
using System.Globalization;
using NativeEE.Kernels;

namespace NativeEE.Bench;

/// <summary>
/// <c>gemm-table</c>: GEMM shapes timed the same way as the FMA-peak probe, in one process, as a markdown table.
/// Each figure comes from many short trials (~3 ms): the median shows the machine as it is, the best trial the
/// kernel with the core to itself — on a CPU shared with other work, a long BenchmarkDotNet iteration mostly
/// measures the share of the core it got, for the probe as much as for the GEMM.
/// Weights are "hot" (one matrix, called again and again: it stays in cache) or "cold" (calls cycle through
/// copies of the weights totalling 128 MiB, as a forward pass does: every layer has its own weights).
/// Usage: <c>gemm-table [--shapes bench|shared|bert] [--rows 1,8,25] [--weights hot|cold|both]
/// [--threads 1,2] [--trials 30] [--filter text]</c>; the AVX2 path: <c>DOTNET_EnableAVX512=0</c>.
/// <c>bench</c> (default) = the shapes of <see cref="GemmBenchmarks"/> plus the M = 1 dot-loop baseline of
/// <see cref="GemvBenchmarks"/>; <c>shared</c>/<c>bert</c> = the four projections of all-MiniLM-L6-v2 / BERT-base
/// at each M of <c>--rows</c> (default 1,8,25,48).
/// </summary>
internal static class GemmTable
{
    const double TrialSeconds = 0.003;
    const long ColdBytes = 128L << 20;

    public static void Run(string[] args)
    {
        int[] threadCounts = [1, 2];
        int[] rows = [1, 8, 25, 48];
        int trials = 30;
        string? filter = null;
        string shapeSet = "bench";
        bool hot = true, cold = false;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--threads": threadCounts = Ints(value); break;
                case "--rows": rows = Ints(value); break;
                case "--trials": trials = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--filter": filter = value; break;
                case "--shapes" when value is "bench" or "shared" or "bert": shapeSet = value; break;
                case "--weights" when value is "hot" or "cold" or "both": (hot, cold) = (value != "cold", value != "hot"); break;
                default: throw new ArgumentException($"gemm-table: bad option {args[i]} {value} (known: --shapes bench|shared|bert, --rows, --weights hot|cold|both, --threads, --trials, --filter).");
            }
        }

        var path = Isa.Active;
        const int chunks = 4;
        var peak = Measure(() => FmaPeak.Run(path, chunks), FmaPeak.Flops(path, chunks), trials, cpuTime: true);
        Console.WriteLine($"ISA path: {Isa.Description}. FMA peak of one core (independent chains): " +
                          $"best {peak.Best:F1}, median {peak.Median:F1} GFLOP/s. {trials} trials of ~{TrialSeconds * 1e3:F0} ms per row; " +
                          (E2e.ThreadClock.IsCpuTime ? "1-thread rows timed in thread CPU time, others in wall time." : "wall time."));
        Console.WriteLine();
        Console.WriteLine("| M×K×N | weights | threads | GFLOP/s median | GFLOP/s best | % peak (best) | p10–p90 GFLOP/s | note |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---|");

        foreach (var shape in Shapes(shapeSet, rows))
        {
            if (filter is not null && !shape.ToString().Contains(filter, StringComparison.Ordinal)) continue;
            var rng = new Random(42);
            var x = GemmBenchmarks.Random(rng, shape.M * shape.K);
            var w = GemmBenchmarks.Random(rng, shape.N * shape.K);
            var bias = GemmBenchmarks.Random(rng, shape.N);
            var y = new float[shape.M * shape.N];
            long bytes = 4L * shape.N * shape.K;
            var copies = new PackedMatrix[cold ? (int)Math.Max(2, (ColdBytes + bytes - 1) / bytes) : 1];
            for (int c = 0; c < copies.Length; c++) copies[c] = Gemm.Pack(w, shape.N, shape.K);
            // The previous shape's copies are garbage now: collect them here rather than inside a timed trial.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            foreach (bool isCold in new[] { false, true })
            {
                if (isCold ? !cold : !hot) continue;
                double singleBest = 0;
                foreach (int threads in threadCounts)
                {
                    using var pool = threads > 1 ? new WorkerPool(threads) : null;
                    int next = 0;
                    var r = isCold
                        ? Measure(() => Gemm.Multiply(x, shape.M, copies[next++ % copies.Length], bias, y, Epilogue.None, default, pool), shape.Flops, trials, threads == 1)
                        : Measure(() => Gemm.Multiply(x, shape.M, copies[0], bias, y, Epilogue.None, default, pool), shape.Flops, trials, threads == 1);
                    string note = isCold ? $"weights {r.Median / shape.Flops * bytes:F1} GB/s (median)" : "";
                    if (threads == 1) singleBest = r.Best;
                    else if (singleBest > 0) note += (note.Length > 0 ? "; " : "") + $"{r.Best / singleBest:F2}× 1 thread";
                    if (shapeSet == "bench" && shape.M == 1 && threads == 1 && !isCold)
                    {
                        var dot = Measure(() => DotLoop(x, w, y, shape.K), shape.Flops, trials, cpuTime: true);
                        note = $"plain dot loop: best {dot.Best:F1} → {r.Best / dot.Best:F2}×";
                    }
                    Console.WriteLine($"| {shape} | {(isCold ? "cold" : "hot")} | {threads} | {r.Median:F1} | {r.Best:F1} | {100 * r.Best / (peak.Best * threads):F0} | {r.P10:F1}–{r.P90:F1} | {note} |");
                }
            }
        }
    }

    static int[] Ints(string list) => list.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The shapes of a set; the model sets as (K, N) = Q/K/V, attention out, FFN up, FFN down at each M.</summary>
    static IEnumerable<GemmShape> Shapes(string set, int[] rows)
    {
        if (set == "bench") return GemmBenchmarks.Shapes();
        int h = set == "shared" ? 384 : 768, ff = 4 * h;
        (int K, int N)[] projections = [(h, 3 * h), (h, h), (h, ff), (ff, h)];
        return rows.SelectMany(m => projections.Select(p => new GemmShape(m, p.K, p.N)));
    }

    readonly record struct Rates(double Best, double Median, double P10, double P90);

    /// <summary>
    /// GFLOP/s over <paramref name="trials"/> trials of about <see cref="TrialSeconds"/> each, after 500 ms of warm-up
    /// (tiered JIT must reach the optimised kernels first). <paramref name="cpuTime"/>: time by the calling thread's CPU
    /// time, which leaves out the time it waited for a core on a shared machine (only valid when it does all the work).
    /// </summary>
    static Rates Measure(Action op, double flopsPerCall, int trials, bool cpuTime)
    {
        var warm = Stopwatch.StartNew();
        int calls = 0;
        while (warm.ElapsedMilliseconds < 500 || calls < 3)
        {
            op();
            calls++;
        }
        int reps = Math.Max(1, (int)(calls * TrialSeconds / warm.Elapsed.TotalSeconds));
        var rates = new double[trials];
        for (int t = 0; t < trials; t++)
        {
            long start = cpuTime ? E2e.ThreadClock.NowNs() : Stopwatch.GetTimestamp();
            for (int i = 0; i < reps; i++) op();
            rates[t] = cpuTime ? flopsPerCall * reps / (E2e.ThreadClock.NowNs() - start)
                : flopsPerCall * reps / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
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
