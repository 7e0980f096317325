using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace NativeEE.Bench.E2e;

/// <summary>
/// One engine configuration over the whole eval set: <see cref="Run"/> classifies every sentence once, batch by batch,
/// from inputs prepared up front (tokenizing and tensor building are not timed, for either engine).
/// </summary>
internal abstract class EvalPass : IDisposable
{
    protected EvalPass(string engine, string mode, EvalSet set, int batch, int threads)
    {
        Engine = engine;
        Mode = mode;
        Set = set;
        Batch = batch;
        Threads = threads;
        BatchCount = (set.Count + batch - 1) / batch;
    }

    public string Engine { get; }
    public string Mode { get; }
    public EvalSet Set { get; }
    public int Batch { get; }
    public int Threads { get; }
    public int BatchCount { get; }

    /// <summary>Wall time of each timed pass divided by the sentence count, ms.</summary>
    public List<double> PerSentenceMs { get; } = [];

    /// <summary>The calling thread's CPU time of each timed pass divided by the sentence count, ms (the latency on an idle core when <see cref="Threads"/> is 1).</summary>
    public List<double> PerSentenceCpuMs { get; } = [];

    protected int Start(int b) => b * Batch;
    protected int Size(int b) => Math.Min(Batch, Set.Count - b * Batch);

    /// <summary>Runs every batch once.</summary>
    public void Run()
    {
        for (int b = 0; b < BatchCount; b++) RunBatch(b);
    }

    /// <summary>Runs every batch once and records the pass's wall and CPU time.</summary>
    public void RunTimed()
    {
        long cpu = ThreadClock.NowNs(), wall = Stopwatch.GetTimestamp();
        Run();
        PerSentenceMs.Add(Stats.Ms(Stopwatch.GetTimestamp() - wall) / Set.Count);
        PerSentenceCpuMs.Add(ThreadClock.Ms(ThreadClock.NowNs() - cpu) / Set.Count);
    }

    protected abstract void RunBatch(int b);

    /// <summary>Predicted label per sentence after the last pass.</summary>
    public abstract int PredictedLabel(int sentence);

    /// <summary>Encoder layers run per sentence after the last pass.</summary>
    public abstract int LayersRun(int sentence);

    public double Accuracy()
    {
        int right = 0;
        for (int i = 0; i < Set.Count; i++) if (PredictedLabel(i) == Set.Labels[i]) right++;
        return (double)right / Set.Count;
    }

    public double MeanLayers()
    {
        double sum = 0;
        for (int i = 0; i < Set.Count; i++) sum += LayersRun(i);
        return sum / Set.Count;
    }

    public virtual void Dispose() { }
}

/// <summary>NativeEE's pre-tokenized batch call: sequences packed back to back, per-sample exit.</summary>
internal sealed class NativeEvalPass : EvalPass
{
    readonly EarlyExitModel _model;
    readonly int[][] _ids, _offsets;
    readonly ExitPolicy[] _policies;
    readonly Prediction[] _results;

    NativeEvalPass(EarlyExitModel model, string mode, EvalSet set, int batch, Func<int, ExitPolicy> policyOfBatch)
        : base("NativeEE", mode, set, batch, model.Threads)
    {
        _model = model;
        _ids = new int[BatchCount][];
        _offsets = new int[BatchCount][];
        _policies = new ExitPolicy[BatchCount];
        _results = new Prediction[set.Count];
        for (int b = 0; b < BatchCount; b++)
        {
            int start = Start(b), n = Size(b);
            var offsets = new int[n + 1];
            for (int i = 0; i < n; i++) offsets[i + 1] = offsets[i] + set.Ids[start + i].Length;
            var ids = new int[offsets[n]];
            for (int i = 0; i < n; i++) set.Ids[start + i].CopyTo(ids, offsets[i]);
            _ids[b] = ids;
            _offsets[b] = offsets;
            _policies[b] = policyOfBatch(b);
        }
    }

    /// <summary>Every sample leaves the batch at its own exit layer (<paramref name="policy"/>).</summary>
    public static NativeEvalPass PerSample(EarlyExitModel model, string mode, EvalSet set, int batch, ExitPolicy policy) =>
        new(model, mode, set, batch, _ => policy);

    /// <summary>
    /// The "exit only when all samples agree" baseline: every sample of a batch runs to the deepest of the batch's
    /// per-sample exit layers (<paramref name="exitLayers"/>, from a per-sample run of the same policy), the
    /// rows stay packed (no padding compute), and every sample answers with that layer's head.
    /// </summary>
    public static NativeEvalPass AllAgree(EarlyExitModel model, string mode, EvalSet set, int batch, int[] exitLayers) =>
        new(model, mode, set, batch, b =>
        {
            int start = b * batch, end = Math.Min(set.Count, start + batch), deepest = 0;
            for (int i = start; i < end; i++) deepest = Math.Max(deepest, exitLayers[i]);
            return ExitPolicy.FixedDepth(deepest + 1);
        });

    protected override void RunBatch(int b) =>
        _model.Classify(_ids[b], _offsets[b], _results.AsSpan(Start(b), Size(b)), _policies[b]);

    public override int PredictedLabel(int sentence) => _results[sentence].Label;
    public override int LayersRun(int sentence) => _results[sentence].LayersRun;
    public int ExitLayer(int sentence) => _results[sentence].ExitLayer;
    public ReadOnlySpan<float> Logits(int sentence) => _results[sentence].Logits;
}

/// <summary>ONNX Runtime on the exported graph: each batch padded to its longest sentence, with the attention mask.</summary>
internal sealed class OrtEvalPass : EvalPass
{
    readonly InferenceSession _session;
    readonly RunOptions _runOptions = new();
    readonly string[] _inputNames, _outputNames;
    readonly OrtValue[][] _inputs, _outputs;
    readonly float[][] _logits;
    readonly int _layers, _labels;

    public OrtEvalPass(InferenceSession session, int threads, int layers, int labels, EvalSet set, int batch)
        : base("ONNX Runtime", "full depth", set, batch, threads)
    {
        _session = session;
        _layers = layers;
        _labels = labels;
        _inputNames = OrtSessions.InputNames(session);
        _outputNames = [OrtSessions.LogitsName(session)];
        _inputs = new OrtValue[BatchCount][];
        _outputs = new OrtValue[BatchCount][];
        _logits = new float[BatchCount][];
        for (int b = 0; b < BatchCount; b++)
        {
            int start = Start(b), n = Size(b);
            var rows = new int[n][];
            for (int i = 0; i < n; i++) rows[i] = set.Ids[start + i];
            _inputs[b] = OrtSessions.PaddedInputs(_inputNames, rows);
            _logits[b] = new float[n * labels];
            _outputs[b] = [OrtValue.CreateTensorValueFromMemory(_logits[b], [n, labels])];
        }
    }

    protected override void RunBatch(int b) => _session.Run(_runOptions, _inputNames, _inputs[b], _outputNames, _outputs[b]);

    public ReadOnlySpan<float> Logits(int sentence) => _logits[sentence / Batch].AsSpan(sentence % Batch * _labels, _labels);

    /// <summary>Argmax of the logits; ties go to the lowest index (as torch.argmax and NativeEE).</summary>
    public override int PredictedLabel(int sentence)
    {
        var z = Logits(sentence);
        int best = 0;
        for (int i = 1; i < z.Length; i++) if (z[i] > z[best]) best = i;
        return best;
    }

    public override int LayersRun(int sentence) => _layers;

    public override void Dispose()
    {
        foreach (var values in _inputs) foreach (var v in values) v.Dispose();
        foreach (var values in _outputs) foreach (var v in values) v.Dispose();
        _runOptions.Dispose();
    }
}
