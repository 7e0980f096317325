using Microsoft.ML.OnnxRuntime;

namespace NativeEE.Bench.E2e;

/// <summary>
/// Part 1: the shared early-exit model on the labelled eval sentences, every (threads, batch) with ONNX Runtime at full
/// depth and NativeEE at full depth, per-sample exit and the "all samples agree" baseline. Each timed round runs every
/// configuration once (order rotated per round), so machine load drifts over all of them alike.
/// </summary>
internal sealed class EvalSetBench : IDisposable
{
    public const string EntropySpec = "entropy:0.3";

    readonly List<EarlyExitModel> _models = [];
    readonly List<InferenceSession> _sessions = [];

    public EvalSet Set { get; private set; } = null!;
    public List<EvalPass> Passes { get; } = [];
    public (int Compared, int Different) TokenCheck { get; private set; }
    public ExitPolicy? Calibrated { get; private set; }
    public string? CalibratedSource { get; private set; }
    public int Layers { get; private set; }
    public ModelConfig Config { get; private set; } = null!;

    /// <summary>Labels where NativeEE at full depth and ONNX Runtime disagree, and their largest logit difference (batch 1).</summary>
    public (int Disagreements, double MaxLogitDiff) Parity { get; private set; }

    public void Run(E2eOptions o, Action<string> log)
    {
        string onnx = Path.Combine(o.Model, "model.onnx");
        var entropy = ExitPolicy.Parse(EntropySpec);
        (Calibrated, CalibratedSource) = ResolvePolicy(o.Policy, o.Model);

        foreach (int threads in o.Threads)
        {
            var model = EarlyExitModel.Load(o.Model, new ModelOptions { Threads = threads });
            _models.Add(model);
            _sessions.Add(OrtSessions.Create(onnx, threads));
            if (Set is null)
            {
                Config = model.Config;
                Layers = model.NumLayers;
                Set = EvalSet.Load(o.Data, model, o.MaxSentences);
                TokenCheck = Set.CheckAgainst(Path.Combine(o.Model, "reference", "token_ids.tsv"));
                log($"eval set: {Set.Count} sentences from {o.Data}, median {Set.MedianTokens():0} tokens; token ids vs reference: {TokenCheck.Different} of {TokenCheck.Compared} rows differ");
            }
        }

        // Per-sample exit layers decide how deep each batch of the "all agree" baseline runs.
        var exitLayers = ExitLayers(_models[0], entropy);

        for (int ti = 0; ti < o.Threads.Length; ti++)
        {
            var model = _models[ti];
            foreach (int batch in o.Batches)
            {
                Passes.Add(new OrtEvalPass(_sessions[ti], o.Threads[ti], Layers, Config.NumLabels, Set, batch));
                Passes.Add(NativeEvalPass.PerSample(model, "full depth", Set, batch, ExitPolicy.FullDepth));
                Passes.Add(NativeEvalPass.PerSample(model, EntropySpec + " per-sample exit", Set, batch, entropy));
                if (batch > 1)
                    Passes.Add(NativeEvalPass.AllAgree(model, EntropySpec + " all-agree baseline", Set, batch, exitLayers));
                if (Calibrated is not null)
                    Passes.Add(NativeEvalPass.PerSample(model, $"{Calibrated.Spec} (calibrated) per-sample exit", Set, batch, Calibrated));
            }
        }

        log($"warm-up: {Passes.Count} configurations, one pass each");
        foreach (var p in Passes) p.Run();
        CheckParity();

        for (int round = 0; round < o.Repeats; round++)
        {
            for (int j = 0; j < Passes.Count; j++) Passes[(j + round) % Passes.Count].RunTimed();
            log($"round {round + 1}/{o.Repeats} done (load {MachineFacts.LoadAverage()})");
        }
    }

    /// <summary>Exit layer of every sentence under <paramref name="policy"/>, one sentence at a time.</summary>
    int[] ExitLayers(EarlyExitModel model, ExitPolicy policy)
    {
        var pass = NativeEvalPass.PerSample(model, "exit layers", Set, 1, policy);
        pass.Run();
        var layers = new int[Set.Count];
        for (int i = 0; i < Set.Count; i++) layers[i] = pass.ExitLayer(i);
        return layers;
    }

    void CheckParity()
    {
        var orts = Passes.OfType<OrtEvalPass>().ToList();
        var ort = orts.FirstOrDefault(p => p.Batch == 1) ?? orts[0];
        var nee = Passes.OfType<NativeEvalPass>().First(p => p.Mode == "full depth" && p.Batch == ort.Batch && p.Threads == ort.Threads);
        int disagreements = 0;
        double diff = 0;
        for (int i = 0; i < Set.Count; i++)
        {
            if (ort.PredictedLabel(i) != nee.PredictedLabel(i)) disagreements++;
            var a = ort.Logits(i);
            var b = nee.Logits(i);
            for (int k = 0; k < a.Length; k++) diff = Math.Max(diff, Math.Abs(a[k] - b[k]));
        }
        Parity = (disagreements, diff);
    }

    /// <summary>--policy as a spec, a nativeee-policy.json (or its folder); else the model folder's own policy file.</summary>
    static (ExitPolicy?, string?) ResolvePolicy(string? argument, string modelDir)
    {
        if (argument is null)
            return PolicyFile.TryLoad(modelDir) is { } own ? (own, Path.Combine(modelDir, PolicyFile.FileName)) : (null, null);
        if (Directory.Exists(argument))
            return (PolicyFile.TryLoad(argument) ?? throw new FileNotFoundException($"--policy {argument}: the folder has no {PolicyFile.FileName}."),
                Path.Combine(argument, PolicyFile.FileName));
        if (File.Exists(argument))
        {
            if (!string.Equals(Path.GetFileName(argument), PolicyFile.FileName, StringComparison.Ordinal))
                throw new ArgumentException($"--policy {argument}: a policy file must be named {PolicyFile.FileName}.");
            string dir = Path.GetDirectoryName(Path.GetFullPath(argument))!;
            return (PolicyFile.TryLoad(dir)!, argument);
        }
        return (ExitPolicy.Parse(argument), "--policy " + argument);
    }

    public void Dispose()
    {
        foreach (var p in Passes) p.Dispose();
        foreach (var s in _sessions) s.Dispose();
        foreach (var m in _models) m.Dispose();
    }
}
