using System.Globalization;
using System.Text;
using NativeEE.Kernels;

namespace NativeEE.Bench.E2e;

/// <summary>Renders one e2e run as docs/performance.md: machine facts, the tables of both parts, the targets, the profile.</summary>
internal sealed class E2eReport(E2eOptions options)
{
    public required string LoadAtStart { get; init; }
    public required DateTimeOffset Started { get; init; }
    public string LoadAtEnd { get; set; } = "";
    public TimeSpan Duration { get; set; }
    public Dictionary<int, double> Peak { get; } = [];
    public EvalSetBench? Eval { get; set; }
    public List<BertBaseBench.Row>? BertBase { get; set; }
    public string? BertBaseSkipped { get; set; }
    public List<OpProfile.Result> Profiles { get; } = [];
    public List<GemmSweep.Result> Sweeps { get; } = [];

    readonly StringBuilder _md = new();
    readonly List<(string Target, string Measured, string Goal, bool Met)> _targets = [];

    static string F(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "—";

    double PeakFor(int threads) => Peak.TryGetValue(threads, out double p) ? p : Peak.GetValueOrDefault(1) * threads;

    void Line(string text = "") => _md.Append(text).Append('\n');

    public string Render()
    {
        _md.Clear();
        _targets.Clear();
        Line("# Performance");
        Line();
        Line($"NativeEE vs ONNX Runtime on the same weights, both measured in one process and one run of `{options.CommandLine}` " +
             $"(regenerate with `bench/run-e2e.sh`), {Started:yyyy-MM-dd HH:mm} UTC, {Duration.TotalMinutes:0} min.");
        Line();
        Line("| machine | |");
        Line("|---|---|");
        Line($"| CPU | {MachineFacts.CpuModel()}, {Environment.ProcessorCount} logical cores |");
        Line($"| kernels' ISA path | {Isa.Description} |");
        Line($"| FMA peak (measured in this run: {CpuTimeFmaPeak.ChainValues} independent FMA chain values per thread, all threads at once, best of 5 at the start and 5 at the end) | " +
             string.Join("; ", Peak.OrderBy(p => p.Key).Select(p => $"{p.Key} thread{(p.Key > 1 ? "s" : "")}: {F(p.Value, "0.0")} GFLOP/s")) + " |");
        Line($"| runtimes | {MachineFacts.Runtime}; ONNX Runtime {OrtSessions.Version} (CPU provider, ORT_ENABLE_ALL, IntraOpNumThreads = threads, InterOpNumThreads = 1, sequential) |");
        Line($"| OS | {MachineFacts.Os} |");
        Line($"| load average (1/5/15 min) | start {LoadAtStart}; end {LoadAtEnd} — the machine is shared, so absolute times are noisy; ratios come from interleaved runs |");
        Line();
        if (Eval is not null) RenderEval(Eval);
        RenderBertBase();
        RenderTargets();
        RenderProfiles();
        RenderSweeps();
        RenderMethod();
        return _md.ToString();
    }

    void RenderEval(EvalSetBench e)
    {
        var set = e.Set;
        double gflopPerPass = Flops.Model(e.Config, set.Ids.Select(s => s.Length).ToArray()) / 1e9;
        Line($"## 1. Shared model on `{Path.GetFileName(set.Path)}` ({set.Count} sentences)");
        Line();
        Line($"`minilm-sst2-ee` (all-MiniLM-L6-v2 shapes: 6 × 384, FFN 1536) with its shipped exit heads; sentences tokenized once by " +
             $"NativeEE's tokenizer (median {F(set.MedianTokens(), "0")} tokens; {e.TokenCheck.Different} of {e.TokenCheck.Compared} rows differ from " +
             $"the reference token ids). NativeEE packs each batch back to back; ONNX Runtime gets each batch padded to its longest sentence " +
             $"with the attention mask. Time per sentence = wall time of one pass over the whole set / {set.Count}; median and p90 over " +
             $"{options.Repeats} passes. Full-depth work: {F(gflopPerPass / set.Count, "0.000")} GFLOP per sentence on average (no padding counted). " +
             $"Full depth NativeEE vs ORT: {e.Parity.Disagreements} label disagreements, max |Δlogit| {F(e.Parity.MaxLogitDiff, "0.0e0")}.");
        Line();
        if (e.Calibrated is { } shipped) Line($"- Calibrated policy, shipped heads: `{shipped.Policy.Spec}` — {shipped.Origin}.");
        if (e.Trained is { } trained) Line($"- Calibrated policy, heads trained by `nee train-exits` ({options.Trained}): `{trained.Policy.Spec}` — {trained.Origin}.");
        if (e.Calibrated is not null || e.Trained is not null) Line();
        Line(TimingNote);
        Line();
        Line("| threads | batch | engine | mode | wall ms / sentence, median (p90) | CPU ms / sentence | sentences/s | time vs ORT | speed-up vs ORT | accuracy | mean layers | GFLOP/s (% of peak) |");
        Line("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        double gflopPerSentence = gflopPerPass / set.Count;
        foreach (var g in e.Passes.GroupBy(p => (p.Threads, p.Batch)))
        {
            var ort = g.OfType<OrtEvalPass>().First();
            double ortMs = PrimaryMs(ort);
            foreach (var p in g)
            {
                double ms = PrimaryMs(p), gflops = gflopPerSentence / (ms / 1000);
                string rate = p.Mode == "full depth" ? $"{F(gflops, "0.0")} ({F(100 * gflops / PeakFor(p.Threads), "0")} %)" : "—";
                Line($"| {p.Threads} | {p.Batch} | {p.Engine} | {p.Mode} | {F(Stats.Median(p.PerSentenceMs), "0.000")} ({F(Stats.P90(p.PerSentenceMs), "0.000")}) | " +
                     $"{(UsesCpu(p.Threads) ? F(Stats.Median(p.PerSentenceCpuMs), "0.000") : "—")} | {F(1000 / ms, "0")} | " +
                     $"{(p == ort ? "1" : F(ms / ortMs, "0.00"))} | {(p == ort ? "1" : F(ortMs / ms, "0.00") + "×")} | {F(100 * p.Accuracy(), "0.0")} % | {F(p.MeanLayers(), "0.00")} | {rate} |");
            }
        }
        Line();

        Line("### Batched per-sample exit (issue 9): throughput, sentences/s");
        Line();
        Line($"Per-sample exit: each sentence leaves the packed batch at its own exit layer ({EvalSetBench.EntropySpec}). " +
             "All-agree baseline: what a graph runtime can do — the whole batch runs until its last sample's exit layer. " +
             "NativeEE has no padded mode, so the baseline is emulated with the packed path at `FixedDepth(deepest exit layer in the batch)`; " +
             "it pays no padding compute, so it is a generous baseline. Goal: per-sample exit ≥ 0.9 × (layer ratio) × full depth, and ≥ 3 × ORT, at batch 8.");
        Line();
        Line("Throughput from " + (ThreadClock.IsCpuTime ? "CPU time at 1 thread, wall time at 2 threads" : "wall time") + ".");
        Line();
        Line("\"Work ratio\" is the FLOP ratio of full depth vs per-sample exit if every exit layer ran in full: lower than the layer ratio, because " +
             "at full depth the last layer runs its output projection and FFN for the [CLS] rows only (three quarters of a layer saved). " +
             "Lazy layer completion (`ModelOptions.DeferLayerCompletion`, on by default) gets an exit the same saving where exits are frequent — " +
             "the layer's [CLS] rows first, the head, then the other rows only for the sequences going on — so per-sample exit can beat the work ratio.");
        Line();
        Line("| threads | batch | ORT full depth | NativeEE full depth | NativeEE all-agree | NativeEE per-sample exit | exit / full (goal ≥ 0.9 × layer ratio) | work ratio | exit / ORT |");
        Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var g in e.Passes.GroupBy(p => (p.Threads, p.Batch)))
        {
            var ort = g.OfType<OrtEvalPass>().First();
            var full = g.First(p => p.Engine == "NativeEE" && p.Mode == "full depth");
            var exit = g.First(p => p.Mode == EvalSetBench.EntropySpec + " per-sample exit");
            var agree = g.FirstOrDefault(p => p.Mode.EndsWith("all-agree baseline", StringComparison.Ordinal));
            double tOrt = Throughput(ort), tFull = Throughput(full), tExit = Throughput(exit), tAgree = agree is null ? double.NaN : Throughput(agree);
            double layerRatio = full.MeanLayers() / exit.MeanLayers();
            double workRatio = EngineFlops(e, full) / EngineFlops(e, exit);
            Line($"| {g.Key.Threads} | {g.Key.Batch} | {F(tOrt, "0")} | {F(tFull, "0")} | {(agree is null ? "= per-sample" : $"{F(tAgree, "0")} ({F(agree.MeanLayers(), "0.00")} layers)")} | " +
                 $"{F(tExit, "0")} ({F(exit.MeanLayers(), "0.00")} layers) | {F(tExit / tFull, "0.00")}× (layer ratio {F(layerRatio, "0.00")}) | {F(workRatio, "0.00")} | {F(tExit / tOrt, "0.00")}× |");
            if (g.Key.Batch == 8)
            {
                _targets.Add(($"issue 9: batch-8 per-sample exit vs full depth, {g.Key.Threads} thread(s)", $"{F(tExit / tFull, "0.00")}× ({Basis(g.Key.Threads)})",
                    $"≥ 0.9 × {F(layerRatio, "0.00")} = {F(0.9 * layerRatio, "0.00")}×", tExit / tFull >= 0.9 * layerRatio));
                _targets.Add(($"issue 9: batch-8 per-sample exit vs ORT batch 8, {g.Key.Threads} thread(s)", $"{F(tExit / tOrt, "0.00")}× ({Basis(g.Key.Threads)})", "≥ 3×", tExit / tOrt >= 3));
            }
        }
        Line();

        foreach (var g in e.Passes.Where(p => p.Batch == 1).GroupBy(p => p.Threads))
        {
            var ort = g.OfType<OrtEvalPass>().First();
            var full = g.First(p => p.Engine == "NativeEE" && p.Mode == "full depth");
            double ortMs = PrimaryMs(ort), fullMs = PrimaryMs(full);
            string when = $"shared model, batch 1, {g.Key} thread(s)";
            if (g.Key == 1) _targets.Add(($"issue 10: full depth, {when}", $"{F(fullMs / ortMs, "0.00")}× ORT ({Basis(g.Key)})", "≤ 0.70× ORT", fullMs / ortMs <= 0.70));
            foreach (var p in g.Where(p => p.Mode.EndsWith("per-sample exit", StringComparison.Ordinal)))
            {
                double ms = PrimaryMs(p), drop = 100 * (full.Accuracy() - p.Accuracy());
                bool calibrated = p.Mode.Contains("calibrated", StringComparison.Ordinal);
                if (g.Key == 1 || calibrated)
                    _targets.Add(($"issue 10: {p.Mode.Replace(" per-sample exit", "")}, {when} (accuracy −{F(drop, "0.0")} pt, {F(p.MeanLayers(), "0.00")} layers)",
                        $"{F(ortMs / ms, "0.00")}× faster than ORT full depth ({Basis(g.Key)})", "≥ 2.3× with ≤ 1 pt accuracy loss", ortMs / ms >= 2.3 && drop <= 1.0));
            }
        }
    }

    /// <summary>
    /// The time the ratios use: the calling thread's CPU time for 1-thread runs (everything runs on the caller, and it
    /// does not count waiting for a core on a shared machine), wall time otherwise.
    /// </summary>
    static bool UsesCpu(int threads) => threads == 1 && ThreadClock.IsCpuTime;

    static double PrimaryMs(EvalPass p) => Stats.Median(UsesCpu(p.Threads) ? p.PerSentenceCpuMs : p.PerSentenceMs);

    static double PrimaryMs(BertBaseBench.Row r) => UsesCpu(r.Threads) ? r.CpuMedian : r.Median;

    static string Basis(int threads) => UsesCpu(threads) ? "CPU" : "wall";

    static double Throughput(EvalPass p) => 1000 / PrimaryMs(p);

    static double EngineFlops(EvalSetBench e, EvalPass p)
    {
        double sum = 0;
        for (int i = 0; i < e.Set.Count; i++) sum += Flops.Engine(e.Config, e.Set.Ids[i].Length, p.LayersRun(i) - 1);
        return sum;
    }

    void RenderBertBase()
    {
        Line("## 2. BERT-base shapes (12 × 768, FFN 3072)");
        Line();
        if (BertBase is null)
        {
            Line(BertBaseSkipped ?? "Not run (--skip-bert-base).");
            Line();
            return;
        }
        Line($"Random seed-0 weights from `../shared/tools/make-bert-base.sh` (safetensors for NativeEE, `model.onnx` for ORT), token ids " +
             $"random, [CLS] … [SEP], all sequences of a batch equally long (no padding for either engine). Per-call latency, median and p90 over " +
             $"{options.BertRepeats} calls ({Math.Max(3, options.BertRepeats / 2)} at batch 8 × 128), the engines' calls interleaved. GFLOP/s counts " +
             "the full model's work (22.35 GFLOP at 1 × 128) for every row, including NativeEE's default, which runs the last layer's output " +
             "projection and FFN on the [CLS] rows only (the row \"every row in the last layer\" switches that off: like-for-like work with ORT).");
        Line();
        Line(TimingNote);
        Line();
        Line("| threads | batch × tokens | engine | mode | wall ms, median (p90) | CPU ms | GFLOP/s | % of FMA peak | time vs ORT | max \\|Δlogit\\| vs ORT |");
        Line("|---:|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var g in BertBase.GroupBy(r => (r.Threads, r.Batch, r.Seq)))
        {
            var ort = g.First(r => r.Engine == "ONNX Runtime");
            foreach (var r in g)
            {
                double gflops = r.ModelGflop / (PrimaryMs(r) / 1000);
                Line($"| {r.Threads} | {r.Batch} × {r.Seq} | {r.Engine} | {r.Mode} | {F(r.Median, "0.0")} ({F(r.P90, "0.0")}) | {(UsesCpu(r.Threads) ? F(r.CpuMedian, "0.0") : "—")} | {F(gflops, "0.0")} | " +
                     $"{F(100 * gflops / PeakFor(r.Threads), "0")} % | {(r == ort ? "1" : F(PrimaryMs(r) / PrimaryMs(ort), "0.00"))} | {(r == ort ? "—" : F(r.MaxLogitDiff, "0.0e0"))} |");
            }
            var nee = g.First(r => r.Engine == "NativeEE" && r.Mode == "full depth");
            double ratio = PrimaryMs(nee) / PrimaryMs(ort);
            var (goal, limit) = (g.Key.Batch, g.Key.Seq, g.Key.Threads) switch
            {
                (1, 128, 1) => ("≤ 0.92× ORT", 0.92),
                (1, 32, _) => ("≤ 0.80× ORT", 0.80),
                _ => ("≤ 0.90× ORT", 0.90),
            };
            _targets.Add(($"issue 10: BERT-base full depth {g.Key.Batch} × {g.Key.Seq}, {g.Key.Threads} thread(s)", $"{F(ratio, "0.00")}× ORT ({Basis(g.Key.Threads)})", goal, ratio <= limit));
        }
        Line();
    }

    static string TimingNote => ThreadClock.IsCpuTime
        ? "Timing basis: 1-thread rows compare the calling thread's **CPU time** (both engines run a 1-thread call entirely on the caller; " +
          "CPU time leaves out the time spent waiting for a core on this shared machine), 2-thread rows compare **wall time**. " +
          "\"time vs ORT\", \"sentences/s\" and GFLOP/s use that basis; wall times are listed for every row."
        : "Timing basis: wall time.";

    void RenderTargets()
    {
        if (_targets.Count == 0) return;
        Line("## Targets");
        Line();
        Line("| target | measured | goal | met |");
        Line("|---|---:|---:|:---:|");
        foreach (var t in _targets) Line($"| {t.Target} | {t.Measured} | {t.Goal} | {(t.Met ? "yes" : "**no**")} |");
        Line();
    }

    void RenderProfiles()
    {
        if (Profiles.Count == 0) return;
        Line("## Per-op profile of one forward pass (1 thread, full depth)");
        Line();
        Line("The engine's kernel call sequence replayed on the model's shapes (seeded random weights, one set per layer), every kernel call timed; " +
             "\"other\" = the real model's end-to-end time, measured in the same iterations, minus the replayed kernels. GELU is fused into the " +
             "FFN-up GEMM's epilogue; its share is estimated by the standalone GELU kernel on the same elements.");
        Line();
        foreach (var p in Profiles)
        {
            double peak = PeakFor(p.Threads);
            Line($"**{p.Shape}** — end to end {F(p.EndToEndMs, "0.00")} ms, {F(p.ModelGflop / (p.EndToEndMs / 1000), "0.0")} GFLOP/s on the model's {F(p.ModelGflop, "0.000")} GFLOP " +
                 $"({F(100 * p.ModelGflop / (p.EndToEndMs / 1000) / peak, "0")} % of the 1-thread FMA peak)");
            Line();
            Line("| op | ms | share | GFLOP/s (% of peak) |");
            Line("|---|---:|---:|---:|");
            foreach (var op in p.Ops)
            {
                string rate = op.Gflop > 0 && op.Ms > 0 ? $"{F(op.Gflop / 1e9 / (op.Ms / 1000), "0.0")} ({F(100 * op.Gflop / 1e9 / (op.Ms / 1000) / peak, "0")} %)" : "";
                Line($"| {op.Name} | {F(op.Ms, "0.000")} | {F(100 * op.Ms / p.EndToEndMs, "0.0")} % | {rate} |");
            }
            Line();
        }
    }

    void RenderSweeps()
    {
        if (Sweeps.Count == 0) return;
        double peak = PeakFor(1);
        Line("## GEMM speed by rows M (1 thread): hot vs cold weights");
        Line();
        Line("`Gemm.Multiply` with bias on the models' projection shapes (N × K = output × input features). A sentence is M = its token count, " +
             "a packed batch the sum of its sentences'. **hot**: the same weights every call (they stay in cache); **cold**: calls cycle through " +
             "copies of the weights totalling 128 MiB, as a forward pass does (each layer has its own weights). Cells: GFLOP/s hot / cold " +
             "(% of the 1-thread FMA peak cold), and the weight bytes streamed per second when cold.");
        Line();
        foreach (var sweep in Sweeps)
        {
            Line($"| {sweep.Model}: M | " + string.Join(" | ", sweep.Shapes.Select(x => x.Shape)) + " |");
            Line("|---:|" + string.Concat(sweep.Shapes.Select(_ => "---:|")));
            for (int i = 0; i < GemmSweep.Rows.Length; i++)
                Line($"| {GemmSweep.Rows[i]} | " + string.Join(" | ", sweep.Shapes.Select(x =>
                {
                    var cell = x.Cells[i];
                    return $"{F(cell.HotGflops, "0")} / {F(cell.ColdGflops, "0")} ({F(100 * cell.ColdGflops / peak, "0")} %), {F(cell.ColdWeightGBps, "0.0")} GB/s";
                })) + " |");
            Line();
        }
    }

    /// <summary>
    /// The README's performance table: the headline rows of this run (ORT vs NativeEE full depth vs early exit),
    /// spliced between the README's perf-table markers by <c>--readme</c>. The full report has the rest.
    /// </summary>
    public string RenderSummary()
    {
        var md = new StringBuilder();
        void Row(string text) => md.Append(text).Append('\n');
        Row($"Measured by `{options.CommandLine}` on {Started:yyyy-MM-dd}: {MachineFacts.CpuModel()}, {Environment.ProcessorCount} cores, kernels on {Isa.Description}, " +
            $"FMA peak {F(PeakFor(1), "0")} GFLOP/s per core (measured in the run); load average {LoadAtStart} → {LoadAtEnd}. " +
            (ThreadClock.IsCpuTime ? "1-thread times are the caller's CPU time, 2-thread times wall time. " : "Wall times. ") +
            "Ratios < 1 mean NativeEE is faster. Full report, method and per-op profile: [docs/performance.md](docs/performance.md).");
        Row("");
        Row("| model | batch × tokens | threads | ONNX Runtime 1.31.1 | NativeEE full depth (vs ORT) | NativeEE early exit (vs ORT full depth) |");
        Row("|---|---|---:|---:|---:|---:|");
        if (Eval is { } e)
        {
            double fullAccuracy = 0;
            foreach (var g in e.Passes.Where(p => p.Batch is 1 or 8).GroupBy(p => (p.Threads, p.Batch)))
            {
                var ort = g.OfType<OrtEvalPass>().First();
                var full = g.First(p => p.Engine == "NativeEE" && p.Mode == "full depth");
                fullAccuracy = full.Accuracy();
                var exit = g.FirstOrDefault(p => p.Mode.EndsWith("(calibrated) per-sample exit", StringComparison.Ordinal) && !p.Mode.StartsWith("trained", StringComparison.Ordinal))
                           ?? g.First(p => p.Mode == EvalSetBench.EntropySpec + " per-sample exit");
                double ortMs = PrimaryMs(ort), fullMs = PrimaryMs(full), exitMs = PrimaryMs(exit);
                Row($"| MiniLM-L6 SST-2, {e.Set.Count} test sentences (median {F(e.Set.MedianTokens(), "0")} tokens), ms per sentence | {g.Key.Batch} × sentence | {g.Key.Threads} | " +
                    $"{F(ortMs, "0.00")} | {F(fullMs, "0.00")} ({F(fullMs / ortMs, "0.00")}×) | " +
                    $"{F(exitMs, "0.00")} ({F(ortMs / exitMs, "0.00")}× faster; `{exit.Mode.Replace(" per-sample exit", "")}`, {F(exit.MeanLayers(), "0.00")} layers, " +
                    $"accuracy {F(100 * exit.Accuracy(), "0.0")} % vs {F(100 * fullAccuracy, "0.0")} %) |");
            }
        }
        if (BertBase is not null)
            foreach (var g in BertBase.GroupBy(r => (r.Threads, r.Batch, r.Seq)))
            {
                var ort = g.First(r => r.Engine == "ONNX Runtime");
                var nee = g.First(r => r.Engine == "NativeEE" && r.Mode == "full depth");
                double gflops = nee.ModelGflop / (PrimaryMs(nee) / 1000);
                Row($"| BERT-base shapes (12 × 768), ms per call | {g.Key.Batch} × {g.Key.Seq} | {g.Key.Threads} | {F(PrimaryMs(ort), "0.0")} | " +
                    $"{F(PrimaryMs(nee), "0.0")} ({F(PrimaryMs(nee) / PrimaryMs(ort), "0.00")}×, {F(100 * gflops / PeakFor(g.Key.Threads), "0")} % of FMA peak) | — (random weights, no heads) |");
            }
        return md.ToString();
    }

    /// <summary>True when the 1-minute load average (first field) is above the core count.</summary>
    static bool Busy(string load) =>
        double.TryParse(load.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double l) && l > Environment.ProcessorCount;

    void RenderMethod()
    {
        Line("## Method");
        Line();
        Line("- One process runs both engines on inputs prepared up front (tokenizing and tensor building are not timed). ONNX Runtime gets " +
             "preallocated input and output `OrtValue`s; NativeEE gets the pre-tokenized batch call (`Classify(tokenIds, offsets, results, policy)`).");
        Line("- Each timed round runs every configuration once, the order rotated per round, so load from other processes spreads over all of them.");
        Line($"- BERT-base rows with several threads: each timed call starts after a {BertBaseBench.SettleMs} ms pause, so the worker threads of the " +
             "call before (ONNX Runtime's spin after every run) have parked; back to back, the interleaving charged one engine's spinning workers to the other's call.");
        Line("- Accuracy is each engine's own predictions on the whole set; \"mean layers\" counts encoder layers run per sentence.");
        Line("- The FMA peak is measured in the same process at the start and the end, over each thread's CPU time; \"% of peak\" uses the peak for the row's thread count.");
        if (Busy(LoadAtStart) || Busy(LoadAtEnd))
            Line($"- The load average ({LoadAtStart} at the start, {LoadAtEnd} at the end) exceeded the {Environment.ProcessorCount} cores: other processes " +
                 "competed for the CPU. 1-thread rows, compared on CPU time, stay meaningful; multi-thread rows are wall times that largely " +
                 "measure the scheduler (a call runs only as fast as its slowest thread gets a core; ONNX Runtime's spinning workers suffer most), so treat them as indicative only.");
    }
}
