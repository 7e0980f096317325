using System.Globalization;

namespace NativeEE.Bench.E2e;

/// <summary>Command line of <c>NativeEE.Bench e2e</c>; every path has a default that works from a checkout beside ../shared.</summary>
internal sealed class E2eOptions
{
    public const string Usage = """
        usage: NativeEE.Bench e2e [options]
          --shared DIR        shared material (default: $NATIVEEE_SHARED or <repo>/../shared)
          --model DIR         early-exit model folder (default: <shared>/models/minilm-sst2-ee)
          --data FILE         labelled eval sentences, TSV sentence<TAB>label (default: <shared>/data/sst2/test.tsv)
          --policy SPEC|FILE  calibrated exit policy to measure too (a spec such as entropy:0.35, or a
                              nativeee-policy.json); default: <model>/nativeee-policy.json when present,
                              else one calibrated here on --calibrate-on
          --calibrate-on FILE labelled set to calibrate on when no policy is given (default: <shared>/data/sst2/dev.tsv;
                              "none" to skip)
          --calibrate-kind K  policy family to calibrate: entropy (default), normentropy, maxprob, margin,
                              patience, pcee, or all (the fastest of every family)
          --max-drop POINTS   accuracy loss allowed vs full depth when calibrating (default 1)
          --trained DIR       a model folder with heads from `nee train-exits --model-out DIR`: measured too, with
                              its nativeee-policy.json or a policy calibrated as above
          --bert-base DIR     folder written by ../shared/tools/make-bert-base.sh
                              (default: $NATIVEEE_BERT_BASE or <repo>/../out/bert-base; skipped when absent)
          --threads LIST      thread counts (default 1,2)
          --batches LIST      batch sizes on the eval set (default 1,8,32)
          --repeats N         timed passes over the whole eval set per configuration (default 5)
          --bert-repeats N    timed calls per BERT-base configuration and engine (default 15)
          --max-sentences N   use only the first N eval sentences (quick checks)
          --skip-shared       skip part 1 (eval set);  --skip-bert-base  skip part 2
          --no-profile        skip the per-op profile
          --out FILE          write the markdown report there (default: print only)
          --readme FILE       also replace the headline table between FILE's perf-table markers (README.md)
        """;

    public required string Shared { get; init; }
    public required string Model { get; init; }
    public required string Data { get; init; }
    public string? Policy { get; init; }
    public string? CalibrateOn { get; init; }
    public string CalibrateKind { get; init; } = "entropy";
    public double MaxDrop { get; init; } = 1;
    public string? Trained { get; init; }
    public required string BertBase { get; init; }
    public int[] Threads { get; init; } = [1, 2];
    public int[] Batches { get; init; } = [1, 8, 32];
    public int Repeats { get; init; } = 5;
    public int BertRepeats { get; init; } = 15;
    public int MaxSentences { get; init; } = int.MaxValue;
    public bool SkipShared { get; init; }
    public bool SkipBertBase { get; init; }
    public bool Profile { get; init; } = true;
    public string? Out { get; init; }
    public string? Readme { get; init; }
    public required string CommandLine { get; init; }

    /// <summary>args → options; a bad argument → <see cref="ArgumentException"/> naming it.</summary>
    public static E2eOptions Parse(string[] args)
    {
        string? shared = null, model = null, data = null, policy = null, bertBase = null, output = null, readme = null, calibrateOn = null, trained = null;
        string calibrateKind = "entropy";
        double maxDrop = 1;
        int[] threads = [1, 2], batches = [1, 8, 32];
        int repeats = 5, bertRepeats = 15, maxSentences = int.MaxValue;
        bool skipShared = false, skipBert = false, profile = true;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.\n{Usage}");
            switch (a)
            {
                case "--shared": shared = Value(); break;
                case "--model": model = Value(); break;
                case "--data": data = Value(); break;
                case "--policy": policy = Value(); break;
                case "--calibrate-on": calibrateOn = Value(); break;
                case "--calibrate-kind": calibrateKind = Value(); break;
                case "--max-drop":
                    string drop = Value();
                    if (!double.TryParse(drop, NumberStyles.Float, CultureInfo.InvariantCulture, out maxDrop) || !(maxDrop >= 0))
                        throw new ArgumentException($"--max-drop needs a number of points ≥ 0, got '{drop}'.");
                    break;
                case "--trained": trained = Value(); break;
                case "--bert-base": bertBase = Value(); break;
                case "--threads": threads = IntList(a, Value()); break;
                case "--batches": batches = IntList(a, Value()); break;
                case "--repeats": repeats = Positive(a, Value()); break;
                case "--bert-repeats": bertRepeats = Positive(a, Value()); break;
                case "--max-sentences": maxSentences = Positive(a, Value()); break;
                case "--skip-shared": skipShared = true; break;
                case "--skip-bert-base": skipBert = true; break;
                case "--no-profile": profile = false; break;
                case "--out": output = Value(); break;
                case "--readme": readme = Value(); break;
                default: throw new ArgumentException($"Unknown argument '{a}'.\n{Usage}");
            }
        }
        string repo = RepoRoot();
        shared ??= DefaultShared();
        bertBase ??= Environment.GetEnvironmentVariable("NATIVEEE_BERT_BASE") is { Length: > 0 } bb ? bb : Path.Combine(repo, "..", "out", "bert-base");
        return new E2eOptions
        {
            Shared = Path.GetFullPath(shared),
            Model = Path.GetFullPath(model ?? Path.Combine(shared, "models", "minilm-sst2-ee")),
            Data = Path.GetFullPath(data ?? Path.Combine(shared, "data", "sst2", "test.tsv")),
            Policy = policy,
            CalibrateOn = calibrateOn == "none" ? null : Path.GetFullPath(calibrateOn ?? Path.Combine(shared, "data", "sst2", "dev.tsv")),
            CalibrateKind = calibrateKind,
            MaxDrop = maxDrop,
            Trained = trained is null ? null : Path.GetFullPath(trained),
            BertBase = Path.GetFullPath(bertBase),
            Threads = threads,
            Batches = batches,
            Repeats = repeats,
            BertRepeats = bertRepeats,
            MaxSentences = maxSentences,
            SkipShared = skipShared,
            SkipBertBase = skipBert,
            Profile = profile,
            Out = output is null ? null : Path.GetFullPath(output),
            Readme = readme is null ? null : Path.GetFullPath(readme),
            CommandLine = Environment.GetEnvironmentVariable("E2E_COMMAND") is { Length: > 0 } command ? command : "NativeEE.Bench e2e " + string.Join(' ', args),
        };
    }

    /// <summary>The folder holding NativeEE.sln above the binary, else the current directory.</summary>
    /// <summary>$NATIVEEE_SHARED, else ../shared beside the repository.</summary>
    internal static string DefaultShared() =>
        Environment.GetEnvironmentVariable("NATIVEEE_SHARED") is { Length: > 0 } env ? env : Path.Combine(RepoRoot(), "..", "shared");

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeEE.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    static int[] IntList(string name, string value)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{name} needs a comma-separated list of positive integers, got '{value}'.");
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++) result[i] = Positive(name, parts[i]);
        return result;
    }

    static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new ArgumentException($"{name} needs a positive integer, got '{value}'.");
}
