using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NativeEE.Training;
using Spectre.Console;

namespace NativeEE.Cli;

/// <summary>
/// <c>nee train-exits</c>: DeeBERT stage 2 through <see cref="ExitHeadTrainer"/> — the backbone stays frozen, every
/// layer's [CLS] state is computed once per text, and one head per layer below the last is trained on it
/// (cross-entropy, or FastBERT-style self-distillation from the final layer with <c>--distill</c>).
/// </summary>
internal static class TrainExitsCommand
{
    public static (Command, string[]) Create(CliContext context)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var data = new Option<string>("--data", "-d") { Description = "Labelled training TSV/CSV with a header row (e.g. ../shared/data/sst2/train.tsv).", HelpName = "FILE", Required = true };
        var dev = new Option<string?>("--dev") { Description = "Labelled dev file: per-layer dev accuracy after every epoch and at the end.", HelpName = "FILE" };
        var output = new Option<string>("--out", "-o") { Description = "Exits file to write.", HelpName = "FILE", DefaultValueFactory = _ => "exits.safetensors" };
        var modelOut = new Option<string?>("--model-out") { Description = "Also make a model folder here: the backbone's files linked in, the new exits.safetensors beside them (ready for calibrate/eval/classify).", HelpName = "DIR" };
        var epochs = CommonOptions.Positive("--epochs", null, "Passes over the training set (default 12).", "N");
        var lr = new Option<float?>("--lr") { Description = "Peak learning rate (default 1e-3).", HelpName = "RATE" };
        var batch = CommonOptions.Positive("--batch-size", null, "Mini-batch size (default 64).", "N");
        var optimizer = new Option<string>("--optimizer") { Description = "adam (AdamW with --weight-decay) or sgd (with momentum 0.9).", HelpName = "NAME", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong("adam", "sgd");
        var seed = new Option<int>("--seed") { Description = "Seed of initialisation and shuffling (same seed → identical heads).", DefaultValueFactory = _ => 42 };
        var seeds = new Option<string?>("--seeds")
        {
            Description = "Model soup: train one head set per seed (comma-separated, e.g. 1,42; replaces --seed) and write the element-wise mean of their weights. Measured worse than one seed with the default recipe on SST-2 (see the CLI README).",
            HelpName = "S1,S2,…",
        };
        var distill = new Option<float?>("--distill")
        {
            Description = "Self-distillation: weight α of the hard-label loss; the rest, 1 − α, matches the final layer's distribution (FastBERT). 1 = plain cross-entropy.",
            HelpName = "ALPHA",
        };
        var temperature = new Option<float?>("--temperature") { Description = "Distillation temperature (default 1).", HelpName = "T" };
        var weightDecay = new Option<float?>("--weight-decay") { Description = "Weight decay on the head matrices (default 0.1).", HelpName = "W" };
        var dropout = new Option<float?>("--dropout") { Description = "Dropout on the pooled units while training (DeeBERT's highway uses 0.1; default 0).", HelpName = "P" };
        var averaging = new Option<float?>("--weight-averaging") { Description = "Polyak averaging: decay of the moving average of the weights (default 0.9995; 0 = off).", HelpName = "DECAY" };
        var init = new Option<string>("--init")
        {
            Description = "Where every head starts: pooler (the model's own pooler and classifier, the default), random, or an exits file (FILE.safetensors).",
            HelpName = "pooler|random|FILE",
            DefaultValueFactory = _ => "pooler",
        };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule after warm-up: constant, linear or cosine.", HelpName = "NAME", DefaultValueFactory = _ => "constant" };
        schedule.AcceptOnlyFromAmong("constant", "linear", "cosine");
        var warmup = new Option<float?>("--warmup") { Description = "Fraction of all steps spent warming the learning rate up (default 0).", HelpName = "FRACTION" };
        var keepBest = new Option<bool>("--keep-best") { Description = "With --dev: keep each head's best-dev-accuracy epoch." };
        var limit = CommonOptions.Positive("--limit", null, "Use only the first N training rows.", "N");
        var cache = new Option<string?>("--cache") { Description = "Folder to keep computed [CLS] features in; a later run on the same model and data skips the backbone pass.", HelpName = "DIR" };
        var textColumn = new Option<string?>("--text-column") { Description = "Text column: header name or 0-based index.", HelpName = "NAME|INDEX" };
        var labelColumn = new Option<string?>("--label-column") { Description = "Label column: header name or 0-based index.", HelpName = "NAME|INDEX" };
        var command = new Command("train-exits", "Train one exit head per layer on the frozen backbone (DeeBERT stage 2) and write exits.safetensors.")
        {
            model, threads, data, dev, output, modelOut, init, epochs, lr, batch, optimizer, seed, seeds, distill, temperature, weightDecay, dropout, averaging,
            schedule, warmup, keepBest, limit, cache,
            textColumn, labelColumn,
        };
        command.SetAction(parse =>
        {
            var defaults = ExitHeadTrainerOptions.Recommended;
            ExitHeadTrainerOptions options;
            try
            {
                options = defaults with
                {
                    Epochs = parse.GetValue(epochs) ?? defaults.Epochs,
                    LearningRate = parse.GetValue(lr) ?? defaults.LearningRate,
                    BatchSize = parse.GetValue(batch) ?? defaults.BatchSize,
                    Optimizer = parse.GetValue(optimizer) == "sgd" ? ExitOptimizer.Sgd : ExitOptimizer.Adam,
                    Seed = parse.GetValue(seed),
                    DistillAlpha = parse.GetValue(distill) ?? defaults.DistillAlpha,
                    Temperature = parse.GetValue(temperature) ?? defaults.Temperature,
                    WeightDecay = parse.GetValue(weightDecay) ?? defaults.WeightDecay,
                    Dropout = parse.GetValue(dropout) ?? defaults.Dropout,
                    WeightAveraging = parse.GetValue(averaging) ?? defaults.WeightAveraging,
                    Schedule = parse.GetValue(schedule) switch { "linear" => LearningRateSchedule.Linear, "cosine" => LearningRateSchedule.Cosine, _ => LearningRateSchedule.Constant },
                    WarmupFraction = parse.GetValue(warmup) ?? defaults.WarmupFraction,
                    KeepBestEpoch = parse.GetValue(keepBest),
                    Threads = parse.GetValue(threads) ?? defaults.Threads,
                };
                options.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw CliException.Usage(Cli.OneLine(e.Message.Split(" (Parameter")[0]));
            }
            if (options.KeepBestEpoch && parse.GetValue(dev) is null) throw CliException.Usage("--keep-best needs --dev");
            int[] seedList = parse.GetValue(seeds) is { } list ? ParseSeeds(list) : [options.Seed];
            return Run(context, parse.GetValue(model), parse.GetValue(threads), parse.GetValue(data)!, parse.GetValue(dev), parse.GetValue(output)!,
                parse.GetValue(modelOut), parse.GetValue(init)!, options, seedList, parse.GetValue(limit), parse.GetValue(cache), parse.GetValue(textColumn), parse.GetValue(labelColumn));
        });
        return (command,
        [
            "nee train-exits --data ../shared/data/sst2/train.tsv --dev ../shared/data/sst2/dev.tsv --model-out my-model",
            "nee train-exits --data train.tsv --dev dev.tsv --distill 0.5 --epochs 5 --cache feature-cache --out exits.safetensors",
        ]);
    }

    static int[] ParseSeeds(string list)
    {
        var parts = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw CliException.Usage("--seeds needs at least one seed, e.g. --seeds 1,42");
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result[i]))
                throw CliException.Usage($"--seeds: '{parts[i]}' is not an integer seed");
            for (int j = 0; j < i; j++)
                if (result[j] == result[i]) throw CliException.Usage($"--seeds: seed {result[i]} is listed twice (the same seed gives the same heads)");
        }
        return result;
    }

    static int Run(CliContext context, string? modelDir, int? threads, string dataPath, string? devPath, string outPath, string? modelOut, string init,
        ExitHeadTrainerOptions options, int[] seeds, int? limit, string? cacheDir, string? textColumn, string? labelColumn)
    {
        var console = context.Console;
        using var model = CommonOptions.LoadModel(context, modelDir, threads);
        if (model.NumLayers < 2) throw CliException.Input($"{model.Directory}: a 1-layer model has no layer to put an exit head after");
        string fullOut = Path.GetFullPath(outPath);
        if (Path.GetDirectoryName(fullOut) is { } outFolder && !Directory.Exists(outFolder))
            throw CliException.Input($"{fullOut}: the folder does not exist");

        var layers = Enumerable.Range(0, model.NumLayers - 1).ToArray();
        var initialHeads = InitialHeads(init, model, layers);
        var train = Features(context, model, dataPath, limit, textColumn, labelColumn, cacheDir, "train features");
        var dev = devPath is null ? null : Features(context, model, devPath, null, textColumn, labelColumn, cacheDir, "dev features");

        var results = new ExitTrainingResult[seeds.Length];
        for (int s = 0; s < seeds.Length; s++)
        {
            var trainer = new ExitHeadTrainer(options with { Seed = seeds[s] });
            var fractions = new double[model.NumLayers];
            string description = seeds.Length == 1 ? $"training {layers.Length} heads" : $"training {layers.Length} heads, seed {seeds[s]} ({s + 1} of {seeds.Length})";
            results[s] = ProgressDisplay.Run(console, description, layers.Length, sink =>
                trainer.Train(train, layers, dev, initialHeads, progress: new HeadProgress(fractions, sink), cancellationToken: context.CancellationToken));
        }
        IReadOnlyDictionary<int, ExitHead> heads;
        IReadOnlyDictionary<string, string> trainingMetadata;
        ExitProbabilities? devProbabilities = null;
        if (seeds.Length == 1)
        {
            heads = results[0].Heads;
            trainingMetadata = results[0].ToMetadata();
        }
        else
        {
            var sets = new IReadOnlyDictionary<int, ExitHead>[results.Length];
            for (int s = 0; s < results.Length; s++) sets[s] = results[s].Heads;
            heads = ExitHeadSoup.Average(sets);
            double[]? soupDev = null;
            if (dev is not null)
            {
                devProbabilities = ExitProbabilities.FromFeatures(dev, heads);
                soupDev = new double[layers.Length];
                for (int k = 0; k < layers.Length; k++) soupDev[k] = AccuracyValue(devProbabilities, layers[k]);
            }
            trainingMetadata = ExitHeadSoup.ToMetadata(results, soupDev);
        }

        var metadata = new Dictionary<string, string>(trainingMetadata)
        {
            ["train.data"] = Path.GetFileName(dataPath),
            ["train.rows"] = train.Count.ToString(CultureInfo.InvariantCulture),
            ["train.backbone"] = Path.GetFileName(model.Directory),
            ["train.init"] = init is "pooler" or "random" ? init : Path.GetFileName(init),
        };
        ExitsFile.Save(fullOut, heads, metadata);
        string? folder = modelOut is null ? null : MakeModelFolder(model.Directory, Path.GetFullPath(modelOut), fullOut);

        WriteReport(console, model, results, heads, devProbabilities, train, dev, fullOut, folder, metadata["train.init"]);
        return Cli.Success;
    }

    /// <summary>
    /// Starting weights by layer: the model's final pooler + classifier for every head (it already maps a [CLS] state to the
    /// labels; fine-tuning it per layer beats a random start), none (random), or the heads of an exits file.
    /// </summary>
    static IReadOnlyDictionary<int, ExitHead>? InitialHeads(string init, EarlyExitModel model, int[] layers)
    {
        if (init == "random") return null;
        if (init == "pooler")
        {
            var head = ExitsFile.LoadModelHead(model.Directory);
            return layers.ToDictionary(l => l, _ => head);
        }
        if (!File.Exists(init)) throw CliException.Usage($"--init must be pooler, random or an exits file; '{init}' is none of them");
        var heads = ExitsFile.Load(init);
        foreach (int l in layers)
            if (!heads.ContainsKey(l)) throw CliException.Input($"{init}: no head for layer {l} to start from (--init)");
        return heads;
    }

    /// <summary>
    /// Per-layer [CLS] states of a labelled file through the frozen backbone, from the cache when the same model
    /// weights and data were featurised before.
    /// </summary>
    static FeatureSet Features(CliContext context, EarlyExitModel model, string path, int? limit, string? textColumn, string? labelColumn,
        string? cacheDir, string description)
    {
        var data = LabeledData.Read(path, textColumn, labelColumn, model.Labels, limit);
        string? cacheFile = null;
        string key = CacheKey(model, path, limit, data);
        if (cacheDir is not null)
        {
            Directory.CreateDirectory(cacheDir);
            cacheFile = Path.Combine(cacheDir, $"{Path.GetFileNameWithoutExtension(path)}-{key[..16]}.features.safetensors");
            if (File.Exists(cacheFile))
            {
                var cached = FeatureSet.Load(cacheFile);
                if (cached.Metadata.TryGetValue("source", out var source) && source == key && cached.Count == data.Count)
                {
                    context.Console.Error.WriteLine($"{description}: from cache {cacheFile}");
                    return cached;
                }
            }
        }
        var set = TokenizedSet.Create(model, data.Texts);
        var sequences = new int[set.Count][];
        for (int i = 0; i < set.Count; i++) sequences[i] = set.Sequence(i);
        var features = ProgressDisplay.Run(context.Console, $"{description} ({data.Count} texts)", data.Count, sink =>
            FeatureSetBuilder.Build(model.ComputeLayerStates, model.NumLayers, model.Config.HiddenSize, model.Labels.Count, sequences, data.Labels,
                batchSize: 64, metadata: new Dictionary<string, string> { ["source"] = key, ["data"] = Path.GetFileName(path) },
                progress: new SyncProgress<int>(done => sink.Report(done)), cancellationToken: context.CancellationToken));
        if (cacheFile is not null) features.Save(cacheFile);
        return features;
    }

    /// <summary>Identifies model weights + data rows: paths, sizes and modification times, hashed.</summary>
    static string CacheKey(EarlyExitModel model, string dataPath, int? limit, LabeledData data)
    {
        var text = new StringBuilder();
        foreach (var file in new[] { Path.Combine(model.Directory, "model.safetensors"), Path.Combine(model.Directory, "config.json"), dataPath })
        {
            var info = new FileInfo(file);
            text.Append(info.FullName).Append('|');
            if (info.Exists) text.Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('|');
        }
        text.Append(limit).Append('|').Append(data.TextColumn).Append('|').Append(data.LabelColumn).Append('|').Append(model.MaxTokens);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Reports overall progress as the sum of every head's own fraction (heads train concurrently).</summary>
    sealed class HeadProgress(double[] fractions, IProgressSink sink) : IProgress<ExitTrainingProgress>
    {
        readonly Lock _lock = new();

        public void Report(ExitTrainingProgress value)
        {
            lock (_lock)
            {
                fractions[value.Layer] = value.Fraction;
                sink.Report(fractions.Sum());
            }
        }
    }

    /// <summary>A model folder of its own: the backbone's files symlinked (copied where links are refused), the new exits beside.</summary>
    static string MakeModelFolder(string backbone, string folder, string exitsFile)
    {
        if (string.Equals(backbone, folder, StringComparison.Ordinal))
            throw CliException.Usage("--model-out must differ from the model folder (write --out there instead)");
        Directory.CreateDirectory(folder);
        foreach (var source in Directory.EnumerateFiles(backbone))
        {
            string name = Path.GetFileName(source);
            if (name is "exits.safetensors" or PolicyFile.FileName || name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) continue;
            string target = Path.Combine(folder, name);
            if (File.Exists(target) || Directory.Exists(target)) File.Delete(target);
            try { File.CreateSymbolicLink(target, source); }
            catch (IOException) { File.Copy(source, target); }
            catch (UnauthorizedAccessException) { File.Copy(source, target); }
        }
        string exits = Path.Combine(folder, "exits.safetensors");
        if (!string.Equals(Path.GetFullPath(exitsFile), exits, StringComparison.Ordinal)) File.Copy(exitsFile, exits, overwrite: true);
        // A policy calibrated for other heads would be wrong for these.
        File.Delete(Path.Combine(folder, PolicyFile.FileName));
        return folder;
    }

    static void WriteReport(CliConsole console, EarlyExitModel model, ExitTrainingResult[] results, IReadOnlyDictionary<int, ExitHead> heads,
        ExitProbabilities? soupProbabilities, FeatureSet train, FeatureSet? dev, string outPath, string? folder, string init)
    {
        var inv = CultureInfo.InvariantCulture;
        var ansi = console.CreateOutConsole();
        var result = results[0];
        var o = result.Options;
        bool soup = results.Length > 1;
        double seconds = 0;
        foreach (var r in results) seconds += r.Elapsed.TotalSeconds;
        string seedText = soup ? $"seeds {string.Join(",", results.Select(r => r.Options.Seed.ToString(inv)))}, weights averaged" : $"seed {o.Seed}";
        console.Out.WriteLine(string.Create(inv, $"trained {result.Exits.Count} heads on {train.Count} texts in {seconds:0.0} s: {o.Epochs} epochs, batch {o.BatchSize}, {(o.Optimizer == ExitOptimizer.Adam ? "Adam" : "SGD")} lr {o.LearningRate}, weight decay {o.WeightDecay}, averaging {o.WeightAveraging}, init {init}, {seedText}{(o.DistillAlpha < 1 ? $", self-distillation α {o.DistillAlpha} T {o.Temperature}" : "")}"));

        IReadOnlyDictionary<int, ExitHead>? shipped = null;
        string shippedPath = Path.Combine(model.Directory, ExitsFile.FileName);
        if (dev is not null && File.Exists(shippedPath)) shipped = ExitsFile.Load(shippedPath);
        var newProbabilities = dev is null ? null : soupProbabilities ?? ExitProbabilities.FromFeatures(dev, heads);
        var oldProbabilities = dev is null || shipped is null ? null : ExitProbabilities.FromFeatures(dev, shipped);

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("exit after layer").RightAligned());
        table.AddColumn(new TableColumn(soup ? "final train loss (per seed)" : "final train loss").RightAligned());
        if (dev is not null && soup)
            foreach (var r in results) table.AddColumn(new TableColumn($"dev accuracy (seed {r.Options.Seed.ToString(inv)})").RightAligned());
        if (dev is not null) table.AddColumn(new TableColumn(soup ? "dev accuracy (soup, written)" : "dev accuracy (new)").RightAligned());
        if (oldProbabilities is not null) table.AddColumn(new TableColumn("dev accuracy (model's current heads)").RightAligned());
        for (int k = 0; k < result.Exits.Count; k++)
        {
            var exit = result.Exits[k];
            var losses = new string[results.Length];
            for (int s = 0; s < results.Length; s++) losses[s] = results[s].Exits[k].EpochLosses[^1].ToString("0.0000", inv);
            var cells = new List<string> { (exit.Layer + 1).ToString(inv), string.Join(" / ", losses) };
            if (dev is not null && soup)
                foreach (var r in results) cells.Add(r.Exits[k].DevAccuracy is { } a ? a.ToString("0.0000", inv) : "—");
            if (newProbabilities is not null) cells.Add(Accuracy(newProbabilities, exit.Layer));
            if (oldProbabilities is not null) cells.Add(Accuracy(oldProbabilities, exit.Layer));
            table.AddTextRow([.. cells]);
        }
        if (dev is not null)
        {
            var cells = new List<string> { $"{model.NumLayers} (model's classifier)", "" };
            if (soup) foreach (var _ in results) cells.Add(dev.FinalAccuracy().ToString("0.0000", inv));
            cells.Add(dev.FinalAccuracy().ToString("0.0000", inv));
            if (oldProbabilities is not null) cells.Add(dev.FinalAccuracy().ToString("0.0000", inv));
            table.AddTextRow([.. cells]);
        }
        ansi.Write(table);
        console.Out.WriteLine($"wrote {outPath}");
        if (folder is not null) console.Out.WriteLine($"model folder {folder} (calibrate it: nee calibrate --model {folder} --data DEV)");
    }

    static double AccuracyValue(ExitProbabilities probabilities, int layer)
    {
        int exit = 0;
        while (exit < probabilities.Layers.Count && probabilities.Layers[exit] != layer) exit++;
        return exit == probabilities.Layers.Count ? double.NaN : probabilities.Accuracy(exit);
    }

    static string Accuracy(ExitProbabilities probabilities, int layer)
    {
        int exit = 0;
        while (exit < probabilities.Layers.Count && probabilities.Layers[exit] != layer) exit++;
        return exit == probabilities.Layers.Count ? "—" : probabilities.Accuracy(exit).ToString("0.0000", CultureInfo.InvariantCulture);
    }
}
