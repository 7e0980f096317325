namespace NativeEE.Tests.Model;

/// <summary>
/// Any HF BERT folder, not just the shared one: odd sizes (hidden 20, 4 heads of 5, FFN 36, 3 labels, 16 positions,
/// a 28-word vocabulary, an exit after layer 0 only) against the independent double-precision oracle in <see cref="SyntheticBert"/>.
/// </summary>
public sealed class SyntheticBertTests : IDisposable
{
    // fp32 engine vs double oracle through 3 layers of width 20: rounding is ~1e-6; 1e-4 still catches any wrong op.
    const double Tolerance = 1e-4;

    readonly SyntheticBert _bert = new();

    public void Dispose() => _bert.Dispose();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void EveryLayerAndEveryExitMatchTheOracle()
    {
        using var model = EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 2 });
        Assert.Equal([0, 2], model.ExitLayers);
        Assert.True(model.HasExitHeads);
        Assert.Equal(16, model.MaxTokens);
        const int L = SyntheticBert.Layers, H = SyntheticBert.Hidden, C = SyntheticBert.Labels;
        var sequences = SyntheticBert.RandomSequences(1, 2, 3, 5, 8, 11, 16);
        var cls = new float[L * H];
        var final = new float[C];
        foreach (var ids in sequences)
        {
            var (oracleCls, oracleLogits) = _bert.Forward(ids);
            model.ComputeLayerStates(ids, cls, final);
            for (int l = 0; l < L; l++) AssertClose(oracleCls[l], cls.AsSpan(l * H, H), $"CLS after layer {l}, length {ids.Length}");
            AssertClose(oracleLogits[L - 1], final, $"final logits, length {ids.Length}");

            var p = model.ClassifyWithTrace(ids, ExitPolicy.FullDepth, Ct);
            Assert.Equal([0, 2], p.Trace!.Heads.Select(h => h.Layer));
            foreach (var head in p.Trace.Heads) AssertClose(oracleLogits[head.Layer], head.Logits, $"head {head.Layer}, length {ids.Length}");
            Assert.Equal(2, p.ExitLayer);
            Assert.Equal(ArgMax(oracleLogits[2]), p.Label);
            Assert.Equal(new[] { "sad", "neutral", "happy" }[p.Label], p.LabelName);
            Assert.Equal(ids.Length, p.TokenCount);
        }
    }

    [Fact]
    public void ChunkedBatchWithPerSampleExitMatchesTheOracle()
    {
        // MaxBatchTokens = MaxTokens = 16 forces the 12-sequence batch into many chunks.
        using var model = EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 2, MaxTokens = 16, MaxBatchTokens = 16 });
        var sequences = SyntheticBert.RandomSequences(2, 16, 2, 9, 5, 14, 3, 7, 16, 4, 12, 6, 10);
        var oracle = sequences.Select(s => _bert.Forward(s).Logits).ToArray();
        // A threshold between the head-0 confidences sends about half the batch out after layer 0.
        var confidence0 = oracle.Select(o => Softmax(o[0]).Max()).Order().ToArray();
        float tau = (float)((confidence0[5] + confidence0[6]) / 2);
        var (flat, offsets) = SyntheticBert.Pack(sequences);
        var results = new Prediction[sequences.Length];
        model.Classify(flat, offsets, results, ExitPolicy.MaxProbability(tau), Ct);
        int early = 0;
        for (int i = 0; i < sequences.Length; i++)
        {
            int exit = Softmax(oracle[i][0]).Max() >= tau ? 0 : 2;
            early += exit == 0 ? 1 : 0;
            Assert.Equal(exit, results[i].ExitLayer);
            AssertClose(oracle[i][exit], results[i].Logits, $"sequence {i}");
            Assert.Equal(ArgMax(oracle[i][exit]), results[i].Label);
            Assert.Equal(sequences[i].Length, results[i].TokenCount);
            Assert.False(results[i].Truncated);
        }
        Assert.InRange(early, 5, 7);
    }

    [Fact]
    public void FolderWithoutExitsRunsFullDepthAndRefusesExitPolicies()
    {
        _bert.WriteFolder(exits: false);
        using var model = EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 1 });
        Assert.False(model.HasExitHeads);
        Assert.Equal([2], model.ExitLayers);
        var ids = SyntheticBert.RandomSequences(3, 7)[0];
        var p = model.Classify(ids, ExitPolicy.FullDepth, Ct);
        AssertClose(_bert.Forward(ids).Logits[2], p.Logits, "final logits");
        Assert.Equal(2, p.ExitLayer);
        Assert.Equal(3, p.LayersRun);
        var e = Assert.Throws<InvalidOperationException>(() => model.Classify(ids, ExitPolicy.Entropy(0.3f), Ct));
        Assert.Contains("entropy:0.3", e.Message);
        Assert.Contains("exits.safetensors", e.Message);
        Assert.Throws<InvalidOperationException>(() => model.Classify(ids, ExitPolicy.FixedDepth(1), Ct));
    }

    static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < Tolerance, $"{what}[{i}]: oracle {expected[i]}, engine {actual[i]}");
    }

    static double[] Softmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    static int ArgMax(double[] z) => Array.IndexOf(z, z.Max());
}
