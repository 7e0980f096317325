using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace NativeEE.Cli;

/// <summary>
/// <c>nee eval</c>: accuracy, mean layers, exit histogram and wall-clock speed-up vs full depth (measured in the
/// same run) of one or more policies on a labelled file; <c>--sweep</c> runs a range of thresholds per policy
/// family and plots accuracy against measured speed-up.
/// </summary>
internal static class EvalCommand
{
    /// <summary>Thresholds per family, from eager to cautious: spaced where SST-2-like binary heads change behaviour.</summary>
    static readonly Dictionary<string, string[]> SweepGrid = new()
    {
        ["entropy"] = ["entropy:0.6", "entropy:0.5", "entropy:0.4", "entropy:0.3", "entropy:0.2", "entropy:0.1", "entropy:0.05"],
        ["normentropy"] = ["normentropy:0.8", "normentropy:0.6", "normentropy:0.4", "normentropy:0.25", "normentropy:0.1"],
        ["maxprob"] = ["maxprob:0.7", "maxprob:0.8", "maxprob:0.9", "maxprob:0.95", "maxprob:0.98", "maxprob:0.99"],
        ["margin"] = ["margin:0.4", "margin:0.6", "margin:0.8", "margin:0.9", "margin:0.96", "margin:0.98"],
        ["patience"] = ["patience:1", "patience:2", "patience:3", "patience:4"],
        ["pcee"] = ["pcee:2,0.7", "pcee:2,0.8", "pcee:2,0.9", "pcee:3,0.8", "pcee:3,0.9"],
    };

    public static (Command, string[]) Create(CliContext context)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var data = new Option<string>("--data", "-d") { Description = "Labelled TSV/CSV with a header row (e.g. ../shared/data/sst2/test.tsv).", HelpName = "FILE", Required = true };
        var policies = new Option<ExitPolicy[]>("--policy", "-p")
        {
            Description = $"Exit policy to evaluate; repeat for several. Forms: {ExitPolicy.ValidForms}. Default: the model's calibrated policy.",
            HelpName = "SPEC",
            Arity = ArgumentArity.OneOrMore,
            CustomParser = result =>
            {
                var list = new List<ExitPolicy>();
                foreach (var token in result.Tokens)
                {
                    try { list.Add(ExitPolicy.Parse(token.Value)); }
                    catch (FormatException e) { result.AddError(e.Message.TrimEnd('.')); return []; }
                }
                return [.. list];
            },
        };
        var sweep = new Option<bool>("--sweep") { Description = "Run a range of thresholds for every policy family; print a table and write a plot of accuracy vs measured speed-up." };
        var families = new Option<string[]>("--families")
        {
            Description = $"With --sweep: the families to sweep (default all: {string.Join(", ", SweepGrid.Keys)}).",
            HelpName = "NAME",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        families.AcceptOnlyFromAmong([.. SweepGrid.Keys]);
        var plot = new Option<string>("--plot") { Description = "With --sweep: the PNG to write (an SVG is written beside it).", HelpName = "FILE", DefaultValueFactory = _ => "nee-sweep.png" };
        var textColumn = new Option<string?>("--text-column") { Description = "Text column: header name or 0-based index (default: sentence/text/…).", HelpName = "NAME|INDEX" };
        var labelColumn = new Option<string?>("--label-column") { Description = "Label column: header name or 0-based index (default: label/…).", HelpName = "NAME|INDEX" };
        var limit = CommonOptions.Positive("--limit", null, "Use only the first N rows.", "N");
        var batch = CommonOptions.Positive("--batch", "-b", "Texts per engine call (default 32).", "B");
        var repeat = CommonOptions.Positive("--repeat", null, "Timed rounds per policy (default 3; 1 with --sweep).", "R");
        var json = CommonOptions.Json("the results");
        var command = new Command("eval", "Accuracy, mean layers, exit histogram and measured speed-up vs full depth on a labelled file.")
        {
            model, threads, data, policies, sweep, families, plot, textColumn, labelColumn, limit, batch, repeat, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(sweep) && result.GetResult(policies) is not null)
                result.AddError("--sweep and --policy exclude each other (the sweep chooses its own policies)");
            if (!result.GetValue(sweep) && (result.GetResult(families) is { Implicit: false } || result.GetResult(plot) is { Implicit: false }))
                result.AddError("--families and --plot only apply with --sweep");
        });
        command.SetAction(parse =>
        {
            var settings = new Settings
            {
                ModelDir = parse.GetValue(model),
                Threads = parse.GetValue(threads),
                DataPath = parse.GetValue(data)!,
                Policies = parse.GetValue(policies) ?? [],
                Sweep = parse.GetValue(sweep),
                Families = parse.GetValue(families) is { Length: > 0 } f ? f : [.. SweepGrid.Keys],
                PlotPath = parse.GetValue(plot)!,
                TextColumn = parse.GetValue(textColumn),
                LabelColumn = parse.GetValue(labelColumn),
                Limit = parse.GetValue(limit),
                Batch = parse.GetValue(batch) ?? 32,
                Json = parse.GetValue(json),
            };
            settings.Rounds = parse.GetValue(repeat) ?? (settings.Sweep ? 1 : 3);
            return Run(context, settings);
        });
        return (command,
        [
            "nee eval --data ../shared/data/sst2/test.tsv --policy entropy:0.3 --policy maxprob:0.9 --policy patience:2",
            "nee eval --data reviews.csv --text-column review --label-column stars --limit 500",
            "nee eval --data ../shared/data/sst2/test.tsv --sweep --plot sweep.png",
        ]);
    }

    sealed class Settings
    {
        public string? ModelDir;
        public int? Threads;
        public required string DataPath;
        public ExitPolicy[] Policies = [];
        public bool Sweep;
        public string[] Families = [];
        public string PlotPath = "";
        public string? TextColumn, LabelColumn;
        public int? Limit;
        public int Batch, Rounds;
        public bool Json;
    }

    /// <summary>One evaluated policy: what it did, and how it compares with full depth.</summary>
    internal sealed class Outcome
    {
        public required string Family { get; init; }
        public required PolicyMeasurement Measurement { get; init; }
        public required int[] Labels { get; init; }
        public int NumLayers { get; init; }
        public string Spec => Measurement.Policy.Spec;
        public double Accuracy => AccuracyOf(Measurement.Predictions, Labels);
        public double FullDepthAccuracy => AccuracyOf(Measurement.FullDepthPredictions, Labels);
        public double DropPoints => (FullDepthAccuracy - Accuracy) * 100;
        public double MeanLayers => Measurement.Predictions.Average(p => (double)p.LayersRun);
        public double LayerSpeedup => NumLayers / MeanLayers;
        public double MsPerText => Measurement.Seconds * 1000 / Measurement.Predictions.Length / Rounds;
        public int Rounds { get; init; }

        public int[] Histogram()
        {
            var counts = new int[NumLayers];
            foreach (var p in Measurement.Predictions) counts[p.ExitLayer]++;
            return counts;
        }
    }

    static double AccuracyOf(Prediction[] predictions, int[] labels)
    {
        int correct = 0;
        for (int i = 0; i < labels.Length; i++) if (predictions[i].Label == labels[i]) correct++;
        return (double)correct / labels.Length;
    }

    static int Run(CliContext context, Settings s)
    {
        var console = context.Console;
        using var model = CommonOptions.LoadModel(context, s.ModelDir, s.Threads);
        var data = LabeledData.Read(s.DataPath, s.TextColumn, s.LabelColumn, model.Labels, s.Limit);
        var set = TokenizedSet.Create(model, data.Texts);

        var plan = new List<(string Family, ExitPolicy Policy)>();
        if (s.Sweep)
        {
            if (!model.HasExitHeads) throw CliException.Input($"--sweep needs exit heads, but {model.Directory} has no exits.safetensors");
            foreach (var family in s.Families)
                foreach (var spec in SweepGrid[family])
                    plan.Add((family, ExitPolicy.Parse(spec)));
        }
        else if (s.Policies.Length > 0)
        {
            foreach (var p in s.Policies) plan.Add((Family(p), CommonOptions.Resolve(model, p)));
        }
        else
        {
            var p = CommonOptions.Resolve(model, null);
            plan.Add((Family(p), p));
        }

        int batches = PolicyTiming.Batches(set.Count, s.Batch) * s.Rounds;
        var outcomes = new List<Outcome>();
        ProgressDisplay.Run(console, s.Sweep ? $"sweep ({plan.Count} policies)" : "eval", (double)plan.Count * batches, sink =>
        {
            for (int i = 0; i < plan.Count; i++)
            {
                int before = i * batches;
                var m = PolicyTiming.Measure(model, set, plan[i].Policy, s.Batch, s.Rounds, done => sink.Report(before + done), context.CancellationToken);
                outcomes.Add(new Outcome { Family = plan[i].Family, Measurement = m, Labels = data.Labels, NumLayers = model.NumLayers, Rounds = s.Rounds });
            }
        });

        string? plotPath = null, svgPath = null;
        if (s.Sweep)
        {
            plotPath = Path.GetFullPath(s.PlotPath);
            svgPath = Path.ChangeExtension(plotPath, ".svg");
            var series = outcomes.GroupBy(o => o.Family)
                .Select(g => new SweepPlot.Series(g.Key, [.. g.Select(o => (o.Measurement.MeasuredSpeedup, o.Accuracy, o.Spec))]))
                .ToList();
            string title = $"{Path.GetFileName(data.Path)} ({data.Count} texts): accuracy vs measured speed-up";
            SweepPlot.WriteSvg(svgPath, title, series, outcomes[0].FullDepthAccuracy);
            plotPath = SweepPlot.TryWritePng(plotPath, title, series, outcomes[0].FullDepthAccuracy, out string? pngProblem);
            if (pngProblem is not null) console.Error.WriteLine($"nee: PNG plot not written ({pngProblem}); the SVG has the same plot");
        }

        if (s.Json) WriteJson(console.Out, model, data, s, outcomes, plotPath, svgPath);
        else WriteText(console, model, data, s, outcomes, plotPath, svgPath);
        return Cli.Success;
    }

    static string Family(ExitPolicy p)
    {
        int colon = p.Spec.IndexOf(':');
        return colon < 0 ? p.Spec : p.Spec[..colon];
    }

    static void WriteText(CliConsole console, EarlyExitModel model, LabeledData data, Settings s, List<Outcome> outcomes, string? plotPath, string? svgPath)
    {
        var inv = CultureInfo.InvariantCulture;
        var ansi = console.CreateOutConsole();
        console.Out.WriteLine($"model  {model.Directory}: {model.NumLayers} layers, exits after layers {string.Join(",", model.ExitLayers.Select(l => l + 1))}; {model.Isa}, {model.Threads} threads");
        console.Out.WriteLine($"data   {data.Path}: {data.Count} texts, {s.Batch} per call; columns '{data.TextColumn}' (text), '{data.LabelColumn}' (label)");
        console.Out.WriteLine(string.Create(inv, $"full depth: accuracy {outcomes[0].FullDepthAccuracy:0.0000}; speed-up = full-depth time / policy time, both measured here, {s.Rounds} interleaved round{(s.Rounds == 1 ? "" : "s")}"));
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("policy");
        foreach (var c in new[] { "accuracy", "Δ vs full (pts)", "mean layers", "layer speed-up", "measured speed-up", "ms/text" })
            table.AddColumn(new TableColumn(c).RightAligned());
        foreach (var o in outcomes)
            table.AddTextRow(o.Spec, o.Accuracy.ToString("0.0000", inv), o.DropPoints.ToString("+0.00;-0.00;0.00", inv),
                o.MeanLayers.ToString("0.00", inv), o.LayerSpeedup.ToString("0.00", inv) + "×",
                o.Measurement.MeasuredSpeedup.ToString("0.00", inv) + "×", o.MsPerText.ToString("0.000", inv));
        ansi.Write(table);

        if (!s.Sweep)
            foreach (var o in outcomes)
            {
                console.Out.WriteLine($"exit histogram, {o.Spec} (layers run: texts)");
                var counts = o.Histogram();
                int max = counts.Max();
                for (int l = 0; l < counts.Length; l++)
                {
                    int bar = max == 0 ? 0 : (int)Math.Round(40.0 * counts[l] / max);
                    console.Out.WriteLine(string.Create(inv, $"  {l + 1,2} │{new string('█', bar),-40} {counts[l],6} ({100.0 * counts[l] / data.Count,5:0.0}%)"));
                }
            }
        if (plotPath is not null) console.Out.WriteLine($"plot: {plotPath}");
        if (svgPath is not null) console.Out.WriteLine($"plot: {svgPath}");
    }

    static void WriteJson(TextWriter output, EarlyExitModel model, LabeledData data, Settings s, List<Outcome> outcomes, string? plotPath, string? svgPath)
    {
        JsonOutput.Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model.Directory);
            w.WriteString("data", data.Path);
            w.WriteNumber("texts", data.Count);
            w.WriteNumber("layers", model.NumLayers);
            w.WriteString("isa", model.Isa);
            w.WriteNumber("threads", model.Threads);
            w.WriteNumber("batch", s.Batch);
            w.WriteNumber("rounds", s.Rounds);
            w.WriteNumber("fullDepthAccuracy", outcomes[0].FullDepthAccuracy);
            w.WriteStartArray("policies");
            foreach (var o in outcomes) WritePolicy(w, o);
            w.WriteEndArray();
            if (plotPath is not null) w.WriteString("plot", plotPath);
            if (svgPath is not null) w.WriteString("plotSvg", svgPath);
            w.WriteEndObject();
        });
    }

    static void WritePolicy(Utf8JsonWriter w, Outcome o)
    {
        w.WriteStartObject();
        w.WriteString("policy", o.Spec);
        w.WriteString("family", o.Family);
        w.WriteNumber("accuracy", o.Accuracy);
        w.WriteNumber("fullDepthAccuracy", o.FullDepthAccuracy);
        w.WriteNumber("accuracyDropPoints", o.DropPoints);
        w.WriteNumber("meanLayers", o.MeanLayers);
        w.WriteNumber("layerSpeedup", o.LayerSpeedup);
        w.WriteNumber("measuredSpeedup", o.Measurement.MeasuredSpeedup);
        w.WriteNumber("seconds", o.Measurement.Seconds);
        w.WriteNumber("fullDepthSeconds", o.Measurement.FullDepthSeconds);
        w.WriteNumber("msPerText", o.MsPerText);
        w.WriteStartArray("exitHistogram");
        var counts = o.Histogram();
        for (int l = 0; l < counts.Length; l++)
        {
            w.WriteStartObject();
            w.WriteNumber("layer", l);
            w.WriteNumber("count", counts[l]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
