using System.CommandLine;
using System.Globalization;
using NativeEE.Kernels;
using NativeEE.Training;
using Spectre.Console;

namespace NativeEE.Cli;

/// <summary>
/// <c>nee calibrate</c>: the fastest threshold whose accuracy on a dev set stays within a drop of full depth,
/// saved as the model folder's default policy. Every head's output is computed once (one full-depth pass with
/// all heads); candidates are replayed through the engine's own policy code (<see cref="ExitCalibration"/>),
/// then the chosen one is timed against full depth on real engine runs.
/// </summary>
internal static class CalibrateCommand
{
    /// <summary>Texts the chosen policy is timed on: enough for a stable ratio, few enough to take seconds.</summary>
    const int TimedTexts = 512;

    public static (Command, string[]) Create(CliContext context)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var data = new Option<string>("--data", "-d") { Description = "Labelled dev TSV/CSV with a header row (e.g. ../shared/data/sst2/dev.tsv).", HelpName = "FILE", Required = true };
        var maxDrop = new Option<double>("--max-drop")
        {
            Description = "Largest accuracy loss vs full depth allowed on the dev set, in percentage points.",
            HelpName = "POINTS",
            DefaultValueFactory = _ => 1.0,
        };
        maxDrop.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v >= 0 && v <= 100)) r.AddError($"--max-drop must be between 0 and 100 points, got {v.ToString(CultureInfo.InvariantCulture)}");
        });
        var kind = new Option<string>("--policy-kind", "-k")
        {
            Description = $"Policy family to calibrate: {string.Join(", ", ExitCalibration.Kinds)}, or all (the fastest of every family).",
            HelpName = "KIND",
            DefaultValueFactory = _ => "entropy",
        };
        kind.AcceptOnlyFromAmong([.. ExitCalibration.Kinds, "all"]);
        var outDir = new Option<string?>("--out-dir", "-o") { Description = $"Folder to write {PolicyFile.FileName} to (default: the model folder).", HelpName = "DIR" };
        var textColumn = new Option<string?>("--text-column") { Description = "Text column: header name or 0-based index.", HelpName = "NAME|INDEX" };
        var labelColumn = new Option<string?>("--label-column") { Description = "Label column: header name or 0-based index.", HelpName = "NAME|INDEX" };
        var limit = CommonOptions.Positive("--limit", null, "Use only the first N rows.", "N");
        var excludeSeen = new Option<string?>("--exclude-seen")
        {
            Description = "Leave out the rows whose text is found word for word inside a row of this training file. Heads trained "
                + "on that file learnt those rows, so they are over-confident and right there more often than on new text, "
                + "and a threshold calibrated on them exits too early. SST-2's dev.tsv is 89% sub-phrases of train.tsv: pass it.",
            HelpName = "TRAIN",
        };
        var command = new Command("calibrate", "Pick the fastest exit threshold within an accuracy drop on a dev set; save it as the model's default policy.")
        {
            model, threads, data, maxDrop, kind, outDir, excludeSeen, textColumn, labelColumn, limit,
        };
        command.SetAction(parse => Run(context, parse.GetValue(model), parse.GetValue(threads), parse.GetValue(data)!, parse.GetValue(maxDrop),
            parse.GetValue(kind)!, parse.GetValue(outDir), parse.GetValue(excludeSeen), parse.GetValue(textColumn), parse.GetValue(labelColumn),
            parse.GetValue(limit)));
        return (command,
        [
            "nee calibrate --model my-model --data ../shared/data/sst2/dev.tsv --exclude-seen ../shared/data/sst2/train.tsv --max-drop 1.0",
            "nee calibrate --model my-model --data ../shared/data/sst2/dev.tsv --max-drop 1.0",
            "nee calibrate --model my-model --data dev.tsv --policy-kind all --max-drop 0.5",
        ]);
    }

    static int Run(CliContext context, string? modelDir, int? threads, string dataPath, double maxDrop, string kind, string? outDir,
        string? excludeSeen, string? textColumn, string? labelColumn, int? limit)
    {
        var console = context.Console;
        using var model = CommonOptions.LoadModel(context, modelDir, threads);
        if (!model.HasExitHeads)
            throw CliException.Input($"{model.Directory} has no exits.safetensors: there is nothing to calibrate (train heads with 'nee train-exits')");
        string target = Path.GetFullPath(outDir ?? model.Directory);
        if (!Directory.Exists(target)) throw CliException.Input($"{target}: output folder does not exist");

        var data = LabeledData.Read(dataPath, textColumn, labelColumn, model.Labels, limit);
        int rowsRead = data.Count;
        if (excludeSeen is not null)
        {
            var training = LabeledData.Read(excludeSeen, textColumn, labelColumn, model.Labels, null);
            var unseen = TrainingOverlap.UnseenRows(training.Texts, data.Texts);
            console.Error.WriteLine($"left out {data.Count - unseen.Length} of {data.Count} rows of {data.Path} found word for word in {training.Path}; calibrating on the other {unseen.Length}");
            if (unseen.Length == 0)
                throw CliException.Input($"{data.Path}: every row is contained in {training.Path}; nothing is left to calibrate on");
            data = data.Subset(unseen);
        }
        var set = TokenizedSet.Create(model, data.Texts);
        var probabilities = ExitProbabilitiesOf(context, model, set, data.Labels);

        var kinds = kind == "all" ? ExitCalibration.Kinds : [kind];
        CalibrationResult? best = null;
        foreach (var k in kinds)
        {
            var result = ExitCalibration.Calibrate(probabilities, k, maxDrop);
            if (result.Chosen is null) continue;
            if (best?.Chosen is null || result.Chosen.MeanLayers < best.Chosen.MeanLayers
                || (result.Chosen.MeanLayers == best.Chosen.MeanLayers && result.Chosen.Accuracy > best.Chosen.Accuracy))
                best = result;
        }
        if (best?.Chosen is not { } chosen)
            throw CliException.Input($"{data.Path}: no {kind} threshold keeps accuracy within {maxDrop.ToString(CultureInfo.InvariantCulture)} points of full depth");

        // The replay gives accuracy and layers exactly; wall-clock needs the engine.
        var timed = TokenizedSet.Create(model, data.Texts.Take(TimedTexts).ToArray());
        var measurement = ProgressDisplay.Run(console, "timing", PolicyTiming.Batches(timed.Count, 32), sink =>
            PolicyTiming.Measure(model, timed, chosen.Policy, 32, 1, done => sink.Report(done), context.CancellationToken));

        var calibration = best.ToPolicyCalibration(Path.GetFileName(data.Path));
        calibration = new PolicyCalibration
        {
            DataFile = calibration.DataFile,
            MaxAccuracyDrop = calibration.MaxAccuracyDrop,
            DevAccuracy = calibration.DevAccuracy,
            FullDepthAccuracy = calibration.FullDepthAccuracy,
            MeanLayers = calibration.MeanLayers,
            ExpectedSpeedup = Math.Round(measurement.MeasuredSpeedup, 3),
            Rows = data.Count,
            ExcludedSeenIn = excludeSeen is null ? null : Path.GetFileName(excludeSeen),
        };
        string file = Path.Combine(target, PolicyFile.FileName);
        try
        {
            PolicyFile.Save(target, chosen.Policy, calibration);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Input($"{file}: cannot write ({Cli.OneLine(e.Message)}); pass --out-dir DIR, or --model a folder of your own");
        }

        var inv = CultureInfo.InvariantCulture;
        var ansi = console.CreateOutConsole();
        string rowsNote = excludeSeen is null ? "" : $" (of {rowsRead}; the {rowsRead - data.Count} found in {Path.GetFileName(excludeSeen)} left out)";
        console.Out.WriteLine($"calibrated on {data.Path}: {data.Count} texts{rowsNote}, {best.Sweep.Count} {best.Kind} thresholds replayed, allowed drop {maxDrop.ToString(inv)} pts");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("policy");
        foreach (var c in new[] { "accuracy", "Δ vs full (pts)", "mean layers", "layer speed-up" }) table.AddColumn(new TableColumn(c).RightAligned());
        table.AddTextRow("full", best.FullDepth.Accuracy.ToString("0.0000", inv), "0.00", best.FullDepth.MeanLayers.ToString("0.00", inv), "1.00×");
        table.AddTextRow(chosen.Policy.Spec, chosen.Accuracy.ToString("0.0000", inv),
            ((best.FullDepth.Accuracy - chosen.Accuracy) * 100).ToString("+0.00;-0.00;0.00", inv), chosen.MeanLayers.ToString("0.00", inv),
            chosen.LayerSpeedup.ToString("0.00", inv) + "×");
        ansi.Write(table);
        console.Out.WriteLine(string.Create(inv, $"expected speed-up: {chosen.LayerSpeedup:0.00}× by layers run, {measurement.MeasuredSpeedup:0.00}× measured (engine wall-clock on {timed.Count} of these texts)"));
        console.Out.WriteLine($"saved default policy {chosen.Policy.Spec} to {file}");
        if (!string.Equals(target, model.Directory, StringComparison.Ordinal))
            console.Out.WriteLine($"(it applies to the model in {target}; 'nee classify --model {target}' uses it)");
        return Cli.Success;
    }

    /// <summary>
    /// One full-depth pass evaluating every head → probabilities[N, E, C]: what any policy would see, since a head's
    /// output does not depend on whether later layers run.
    /// </summary>
    internal static ExitProbabilities ExitProbabilitiesOf(CliContext context, EarlyExitModel model, TokenizedSet set, int[] labels)
    {
        int n = set.Count, e = model.ExitLayers.Count, c = model.Labels.Count;
        var logits = new float[(long)n * e * c];
        const int batch = 64;
        ProgressDisplay.Run(context.Console, "exit heads", n, sink =>
        {
            for (int start = 0; start < n; start += batch)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(batch, n - start);
                model.ComputeExitLogits(set.Ids, set.BatchOffsets(start, count), logits.AsSpan(start * e * c, count * e * c));
                sink.Report(start + count);
            }
        });
        Softmax.Forward(logits, n * e, c, logits);
        return new ExitProbabilities(model.ExitLayers, model.NumLayers, c, logits, labels);
    }
}
