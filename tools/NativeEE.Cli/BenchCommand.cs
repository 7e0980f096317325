using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NativeEE.Kernels;
using Spectre.Console;

namespace NativeEE.Cli;

/// <summary>
/// <c>nee bench</c>: latency percentiles, throughput, GFLOP/s of the work that actually ran and its share of the
/// machine's FMA peak (probed in the same run), and bytes allocated per call on the pre-tokenized and text paths.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Filler words that are each one WordPiece token in a BERT uncased vocabulary, so T tokens are easy to hit.</summary>
    const string Filler = "the film is a gripping and funny story about love and loss that often feels honest but sometimes drags on too long";

    public static (Command, string[]) Create(CliContext context)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var policy = CommonOptions.Policy();
        var batch = CommonOptions.Positive("--batch", "-b", "Sequences per call (default 1).", "B");
        var tokens = CommonOptions.Positive("--tokens", null, "Tokens per sequence, [CLS] and [SEP] included (default 32).", "T");
        var iterations = CommonOptions.Positive("--iterations", "-n", "Timed calls (default 200).", "N");
        var data = new Option<string?>("--data") { Description = "Use texts from this labelled TSV/CSV (cycled to fill the batch) instead of T-token filler sentences.", HelpName = "FILE" };
        var json = CommonOptions.Json("the measurements");
        var command = new Command("bench", "Latency p50/p90/p99, throughput, GFLOP/s and % of FMA peak, allocations per call.")
        {
            model, threads, policy, batch, tokens, iterations, data, json,
        };
        command.SetAction(parse => Run(context, parse.GetValue(model), parse.GetValue(threads), parse.GetValue(policy), parse.GetValue(batch) ?? 1,
            parse.GetValue(tokens) ?? 32, parse.GetValue(iterations) ?? 200, parse.GetValue(data), parse.GetValue(json)));
        return (command,
        [
            "nee bench",
            "nee bench --batch 32 --tokens 64 --threads 2 --json",
            "nee bench --policy entropy:0.3 --data ../shared/data/sst2/test.tsv --batch 16",
        ]);
    }

    static int Run(CliContext context, string? modelDir, int? threads, ExitPolicy? policyOption, int batch, int tokens, int iterations, string? dataPath, bool json)
    {
        var console = context.Console;
        var ct = context.CancellationToken;
        using var model = CommonOptions.LoadModel(context, modelDir, threads);
        var policy = CommonOptions.Resolve(model, policyOption);
        if (tokens < 2 || tokens > model.MaxTokens)
            throw CliException.Usage($"--tokens must be between 2 and the model's limit of {model.MaxTokens}");
        string[] texts = dataPath is null ? FillerTexts(model, batch, tokens) : DataTexts(model, dataPath, batch);
        var set = TokenizedSet.Create(model, texts);
        var results = new Prediction[batch];

        // The peak is probed right before the run it judges: same clocks, same neighbours.
        var peak = FmaPeak.Measure(model.Threads, TimeSpan.FromMilliseconds(250));

        int warmup = Math.Clamp(iterations / 10, 3, 20);
        for (int i = 0; i < warmup; i++) model.Classify(set.Ids, set.Offsets, results, policy, ct);
        var latencies = new double[iterations];
        ProgressDisplay.Run(console, "bench", iterations, sink =>
        {
            for (int i = 0; i < iterations; i++)
            {
                long start = Stopwatch.GetTimestamp();
                model.Classify(set.Ids, set.Offsets, results, policy, ct);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if ((i & 15) == 15) sink.Report(i + 1);
            }
        });

        // Allocations are counted in quiet loops of their own, away from the progress display's rendering thread.
        const int allocationCalls = 20;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < allocationCalls; i++) model.Classify(set.Ids, set.Offsets, results, policy, ct);
        long preTokenizedBytes = (GC.GetTotalAllocatedBytes(precise: true) - before) / allocationCalls;
        model.Classify(texts, results, policy, ct);
        before = GC.GetTotalAllocatedBytes(precise: true);
        long textTicks = Stopwatch.GetTimestamp();
        for (int i = 0; i < allocationCalls; i++) model.Classify(texts, results, policy, ct);
        double textMs = Stopwatch.GetElapsedTime(textTicks).TotalMilliseconds / allocationCalls;
        long textBytes = (GC.GetTotalAllocatedBytes(precise: true) - before) / allocationCalls;

        double flops = 0, layers = 0;
        for (int i = 0; i < batch; i++)
        {
            flops += ModelFlops.Sequence(model.Config, model.ExitLayers, results[i].TokenCount, results[i].ExitLayer, policy.UsesIntermediateHeads);
            layers += results[i].LayersRun;
        }
        Array.Sort(latencies);
        double mean = latencies.Average();
        var r = new BenchResult
        {
            P50 = Percentile(latencies, 0.50), P90 = Percentile(latencies, 0.90), P99 = Percentile(latencies, 0.99),
            Mean = mean, Min = latencies[0],
            SequencesPerSecond = batch / (mean / 1000), TokensPerSecond = set.Tokens / (mean / 1000),
            Gflops = flops / (mean / 1000) / 1e9, Peak = peak, MeanLayers = layers / batch,
            PreTokenizedBytes = preTokenizedBytes, TextBytes = textBytes, TextMs = textMs,
        };
        if (json) WriteJson(console.Out, model, policy, batch, set, iterations, dataPath, r);
        else WriteText(console, model, policy, batch, set, iterations, dataPath, r);
        return Cli.Success;
    }

    sealed class BenchResult
    {
        public double P50, P90, P99, Mean, Min, SequencesPerSecond, TokensPerSecond, Gflops, MeanLayers, TextMs;
        public FmaPeakResult Peak;
        public long PreTokenizedBytes, TextBytes;
        public double PercentOfPeak => 100 * Gflops / Peak.AllThreadsGflops;
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    static double Percentile(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary><paramref name="batch"/> filler sentences of exactly <paramref name="tokens"/> tokens each ([CLS] and [SEP] included).</summary>
    static string[] FillerTexts(EarlyExitModel model, int batch, int tokens)
    {
        var words = Filler.Split(' ');
        var texts = new string[batch];
        var ids = new int[model.MaxTokens];
        for (int b = 0; b < batch; b++)
        {
            // Each sequence starts at another word so a batch is not one sentence repeated.
            var text = new List<string>();
            int w = b;
            while (model.Tokenize(string.Join(' ', text), ids, out _) < tokens) text.Add(words[w++ % words.Length]);
            while (model.Tokenize(string.Join(' ', text), ids, out _) > tokens) text.RemoveAt(text.Count - 1);
            texts[b] = string.Join(' ', text);
        }
        return texts;
    }

    static string[] DataTexts(EarlyExitModel model, string path, int batch)
    {
        var data = LabeledData.Read(path, null, null, model.Labels, batch);
        var texts = new string[batch];
        for (int b = 0; b < batch; b++) texts[b] = data.Texts[b % data.Count];
        return texts;
    }

    static void WriteText(CliConsole console, EarlyExitModel model, ExitPolicy policy, int batch, TokenizedSet set, int iterations, string? dataPath, BenchResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var ansi = console.CreateOutConsole();
        console.Out.WriteLine($"model {model.Directory}: {model.NumLayers} layers; {model.Isa}; {model.Threads} threads; policy {policy.Spec}");
        console.Out.WriteLine(string.Create(inv, $"input: {batch} sequence{(batch == 1 ? "" : "s")} per call, {set.Tokens} tokens in all ({(dataPath is null ? "filler text" : dataPath)}); {iterations} timed calls; mean layers run {r.MeanLayers:0.00}"));
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("value").RightAligned());
        table.AddTextRow("latency p50", string.Create(inv, $"{r.P50:0.000} ms"));
        table.AddTextRow("latency p90", string.Create(inv, $"{r.P90:0.000} ms"));
        table.AddTextRow("latency p99", string.Create(inv, $"{r.P99:0.000} ms"));
        table.AddTextRow("latency mean / min", string.Create(inv, $"{r.Mean:0.000} / {r.Min:0.000} ms"));
        table.AddTextRow("throughput", string.Create(inv, $"{r.SequencesPerSecond:0.0} sequences/s, {r.TokensPerSecond:0} tokens/s"));
        table.AddTextRow("compute", string.Create(inv, $"{r.Gflops:0.0} GFLOP/s"));
        table.AddTextRow("FMA peak (probed now)", string.Create(inv, $"{r.Peak.AllThreadsGflops:0.0} GFLOP/s on {r.Peak.Threads} threads ({r.Peak.PerCoreGflops:0.0} per core, {r.Peak.Path})"));
        table.AddTextRow("share of peak", string.Create(inv, $"{r.PercentOfPeak:0.0} %"));
        table.AddTextRow("allocated per call, pre-tokenized", string.Create(inv, $"{r.PreTokenizedBytes} B"));
        table.AddTextRow("allocated per call, text", string.Create(inv, $"{r.TextBytes} B"));
        table.AddTextRow("text path latency (mean)", string.Create(inv, $"{r.TextMs:0.000} ms"));
        ansi.Write(table);
    }

    static void WriteJson(TextWriter output, EarlyExitModel model, ExitPolicy policy, int batch, TokenizedSet set, int iterations, string? dataPath, BenchResult r)
    {
        JsonOutput.Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model.Directory);
            w.WriteString("isa", model.Isa);
            w.WriteNumber("threads", model.Threads);
            w.WriteString("policy", policy.Spec);
            w.WriteNumber("batch", batch);
            w.WriteNumber("tokens", set.Tokens);
            w.WriteString("input", dataPath ?? "filler");
            w.WriteNumber("iterations", iterations);
            w.WriteNumber("meanLayers", r.MeanLayers);
            w.WriteStartObject("latencyMs");
            w.WriteNumber("p50", r.P50);
            w.WriteNumber("p90", r.P90);
            w.WriteNumber("p99", r.P99);
            w.WriteNumber("mean", r.Mean);
            w.WriteNumber("min", r.Min);
            w.WriteEndObject();
            w.WriteStartObject("throughput");
            w.WriteNumber("sequencesPerSecond", r.SequencesPerSecond);
            w.WriteNumber("tokensPerSecond", r.TokensPerSecond);
            w.WriteEndObject();
            w.WriteNumber("gflops", r.Gflops);
            w.WriteNumber("fmaPeakGflops", r.Peak.AllThreadsGflops);
            w.WriteNumber("fmaPeakPerCoreGflops", r.Peak.PerCoreGflops);
            w.WriteNumber("percentOfPeak", r.PercentOfPeak);
            w.WriteNumber("allocatedBytesPerCall", r.PreTokenizedBytes);
            w.WriteNumber("allocatedBytesPerCallText", r.TextBytes);
            w.WriteNumber("textPathMeanMs", r.TextMs);
            w.WriteEndObject();
        });
    }
}
