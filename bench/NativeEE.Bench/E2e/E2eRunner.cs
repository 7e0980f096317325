using System.Diagnostics;
using NativeEE.Kernels;

namespace NativeEE.Bench.E2e;

/// <summary>
/// <c>NativeEE.Bench e2e</c>: NativeEE vs ONNX Runtime end to end, in one process and one run — the shared
/// early-exit model on the eval sentences, a BERT-base-shaped model at fixed shapes, the FMA peak, and a per-op
/// profile — written as the markdown performance report.
/// </summary>
internal static class E2eRunner
{
    public static int Run(string[] args)
    {
        E2eOptions o;
        try { o = E2eOptions.Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        var clock = Stopwatch.StartNew();
        void Log(string message) => Console.Error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {message}");

        var report = new E2eReport(o) { LoadAtStart = MachineFacts.LoadAverage(), Started = DateTimeOffset.UtcNow };
        Log($"{MachineFacts.CpuModel()}, {Environment.ProcessorCount} logical cores, {Isa.Description}, load {report.LoadAtStart}");

        MeasurePeak(o, report, Log);

        using var evalBench = new EvalSetBench();
        if (!o.SkipShared)
        {
            evalBench.Run(o, Log);
            report.Eval = evalBench;
        }

        if (!o.SkipBertBase)
        {
            report.BertBaseSkipped = BertBaseBench.Missing(o.BertBase);
            if (report.BertBaseSkipped is null) report.BertBase = BertBaseBench.Run(o, Log);
            else Log(report.BertBaseSkipped);
        }

        if (o.Profile) RunProfiles(o, report, Log);
        MeasurePeak(o, report, Log);

        report.LoadAtEnd = MachineFacts.LoadAverage();
        report.Duration = clock.Elapsed;
        string markdown = report.Render();
        Console.WriteLine(markdown);
        if (o.Out is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(o.Out)!);
            File.WriteAllText(o.Out, markdown);
            Log($"wrote {o.Out}");
        }
        if (o.Readme is not null)
        {
            if (!SpliceReadme(o.Readme, report.RenderSummary(), out string problem))
            {
                Console.Error.WriteLine(problem);
                return 1;
            }
            Log($"updated the performance table in {o.Readme}");
        }
        return 0;
    }

    const string TableBegin = "<!-- perf-table:begin (bench/run-e2e.sh writes this part) -->", TableEnd = "<!-- perf-table:end -->";

    /// <summary>Replaces the text between the README's perf-table markers; false (and why) when they are missing.</summary>
    static bool SpliceReadme(string path, string table, out string problem)
    {
        string text = File.ReadAllText(path);
        int begin = text.IndexOf(TableBegin, StringComparison.Ordinal);
        int end = begin < 0 ? -1 : text.IndexOf(TableEnd, begin, StringComparison.Ordinal);
        if (begin < 0 || end < 0)
        {
            problem = $"--readme {path}: the markers '{TableBegin}' and '{TableEnd}' were not found (in that order); the table was not written.";
            return false;
        }
        int from = begin + TableBegin.Length;
        File.WriteAllText(path, text[..from] + "\n" + table + text[end..]);
        problem = "";
        return true;
    }

    /// <summary>
    /// The FMA peak per thread count, measured at the start and again at the end: the core clock moves with the load on
    /// the other cores, and the peak is what the core can do, so the report keeps the higher of the two.
    /// </summary>
    static void MeasurePeak(E2eOptions o, E2eReport report, Action<string> log)
    {
        foreach (int t in o.Threads.Append(1).Distinct().Order())
        {
            double peak = CpuTimeFmaPeak.Measure(t);
            report.Peak[t] = Math.Max(report.Peak.GetValueOrDefault(t), peak);
            log($"FMA peak, {t} thread(s): {peak:0.0} GFLOP/s");
        }
    }

    /// <summary>
    /// One thread (the standalone GELU estimate is single-threaded): the shared model on its median sentence, BERT-base
    /// 1×128 and 1×32, and the GEMM speed by row count on both models' shapes.
    /// </summary>
    static void RunProfiles(E2eOptions o, E2eReport report, Action<string> log)
    {
        if (!o.SkipShared)
        {
            using var model = EarlyExitModel.Load(o.Model, new ModelOptions { Threads = 1 });
            int median = report.Eval is { } eval ? (int)Math.Round(eval.Set.MedianTokens(), MidpointRounding.AwayFromZero) : 25;
            log($"profile: shared model 1×{median}");
            report.Profiles.Add(OpProfile.Run(model, [median], 200, $"shared model, 1 × {median} tokens"));
            report.Sweeps.Add(GemmSweep.Run("shared model", model.Config));
        }
        if (!o.SkipBertBase && report.BertBaseSkipped is null)
        {
            using var model = EarlyExitModel.Load(o.BertBase, new ModelOptions { Threads = 1 });
            foreach (int seq in (int[])[128, 32])
            {
                log($"profile: BERT-base 1×{seq}");
                report.Profiles.Add(OpProfile.Run(model, [seq], seq >= 128 ? 7 : 15, $"BERT-base, 1 × {seq} tokens"));
            }
            log("GEMM sweep: BERT-base shapes");
            report.Sweeps.Add(GemmSweep.Run("BERT-base", model.Config));
        }
    }
}
