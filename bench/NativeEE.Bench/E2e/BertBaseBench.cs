using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace NativeEE.Bench.E2e;

/// <summary>
/// Part 2: a BERT-base-shaped model (12 × 768, FFN 3072; random weights from ../shared/tools/make-bert-base.sh) at
/// fixed shapes, NativeEE vs ONNX Runtime on the same weights, calls of the engines interleaved so both see the same
/// machine load.
/// </summary>
internal static class BertBaseBench
{
    public static readonly (int Batch, int Seq)[] Shapes = [(1, 128), (1, 32), (8, 128)];

    /// <summary>Per-call wall times <paramref name="Ms"/> and calling-thread CPU times <paramref name="CpuMs"/>.</summary>
    public sealed record Row(string Engine, string Mode, int Batch, int Seq, int Threads, List<double> Ms, List<double> CpuMs, double ModelGflop, double MaxLogitDiff)
    {
        public double Median => Stats.Median(Ms);
        public double P90 => Stats.P90(Ms);
        public double CpuMedian => Stats.Median(CpuMs);
    }

    /// <summary>Why part 2 cannot run, or null when the folder is complete.</summary>
    public static string? Missing(string dir)
    {
        string[] needed = ["config.json", "vocab.txt", "model.safetensors", "model.onnx"];
        var absent = needed.Where(f => !File.Exists(Path.Combine(dir, f))).ToArray();
        return absent.Length == 0 ? null
            : $"BERT-base part skipped: {dir} lacks {string.Join(", ", absent)}. Make it with `bash ../shared/tools/make-bert-base.sh {dir}` (~1 min, ~880 MB, outside the repo) or pass --bert-base DIR.";
    }

    /// <summary>Pause before each timed multi-thread call, far longer than any engine's worker spin.</summary>
    public const int SettleMs = 50;

    public static List<Row> Run(E2eOptions o, Action<string> log)
    {
        var rows = new List<Row>();
        foreach (int threads in o.Threads)
        {
            log($"BERT-base: loading NativeEE ×2 and ONNX Runtime, {threads} thread(s)");
            using var nee = EarlyExitModel.Load(o.BertBase, new ModelOptions { Threads = threads });
            using var neeAllRows = EarlyExitModel.Load(o.BertBase, new ModelOptions { Threads = threads, ClsOnlyLastLayer = false });
            using var ort = OrtSessions.Create(Path.Combine(o.BertBase, "model.onnx"), threads);
            string[] inputNames = OrtSessions.InputNames(ort);
            string[] outputNames = [OrtSessions.LogitsName(ort)];
            int labels = nee.Config.NumLabels;

            foreach (var (batch, seq) in Shapes)
            {
                var rng = new Random(batch * 1000 + seq);
                var sequences = new int[batch][];
                for (int b = 0; b < batch; b++)
                {
                    sequences[b] = new int[seq];
                    for (int t = 0; t < seq; t++)
                        sequences[b][t] = t == 0 ? nee.Tokenizer.ClsId : t == seq - 1 ? nee.Tokenizer.SepId : 1000 + rng.Next(28000);
                }
                var ids = sequences.SelectMany(s => s).ToArray();
                var offsets = Enumerable.Range(0, batch + 1).Select(b => b * seq).ToArray();
                var predictions = new Prediction[batch];
                var predictionsAllRows = new Prediction[batch];
                var inputs = OrtSessions.PaddedInputs(inputNames, sequences);
                var logits = new float[batch * labels];
                using var output = OrtValue.CreateTensorValueFromMemory(logits, [batch, labels]);
                OrtValue[] outputs = [output];
                using var runOptions = new RunOptions();
                try
                {
                    var engines = new (string Engine, string Mode, Action Call)[]
                    {
                        ("ONNX Runtime", "full depth", () => ort.Run(runOptions, inputNames, inputs, outputNames, outputs)),
                        ("NativeEE", "full depth", () => nee.Classify(ids, offsets, predictions, ExitPolicy.FullDepth)),
                        ("NativeEE", "full depth, every row in the last layer", () => neeAllRows.Classify(ids, offsets, predictionsAllRows, ExitPolicy.FullDepth)),
                    };
                    foreach (var e in engines) { e.Call(); e.Call(); }
                    double diff = 0, diffAll = 0;
                    for (int b = 0; b < batch; b++)
                        for (int k = 0; k < labels; k++)
                        {
                            diff = Math.Max(diff, Math.Abs(predictions[b].Logits[k] - logits[b * labels + k]));
                            diffAll = Math.Max(diffAll, Math.Abs(predictionsAllRows[b].Logits[k] - logits[b * labels + k]));
                        }
                    double gflop = Flops.Model(nee.Config, offsets.Skip(1).Select((end, b) => end - offsets[b]).ToArray()) / 1e9;
                    var samples = engines.Select(_ => new List<double>()).ToArray();
                    var cpuSamples = engines.Select(_ => new List<double>()).ToArray();
                    int repeats = batch * seq >= 1024 ? Math.Max(3, o.BertRepeats / 2) : o.BertRepeats;
                    for (int r = 0; r < repeats; r++)
                        for (int j = 0; j < engines.Length; j++)
                        {
                            int e = (j + r) % engines.Length;
                            // With several threads, the previous call's workers may still be spinning (ONNX Runtime's
                            // spin after every Run): interleaved calls would charge that to the next engine. Let them park.
                            if (threads > 1) Thread.Sleep(SettleMs);
                            long cpu = ThreadClock.NowNs(), t0 = Stopwatch.GetTimestamp();
                            engines[e].Call();
                            samples[e].Add(Stats.Ms(Stopwatch.GetTimestamp() - t0));
                            cpuSamples[e].Add(ThreadClock.Ms(ThreadClock.NowNs() - cpu));
                        }
                    for (int e = 0; e < engines.Length; e++)
                        rows.Add(new Row(engines[e].Engine, engines[e].Mode, batch, seq, threads, samples[e], cpuSamples[e], gflop, e == 0 ? 0 : e == 1 ? diff : diffAll));
                    log($"BERT-base {batch}×{seq}, {threads}T: ORT {Stats.Median(samples[0]):0.0} ms, NativeEE {Stats.Median(samples[1]):0.0} ms, all rows {Stats.Median(samples[2]):0.0} ms (max |Δlogit| {diff:0.0e0})");
                }
                finally
                {
                    foreach (var v in inputs) v.Dispose();
                }
            }
        }
        return rows;
    }
}
