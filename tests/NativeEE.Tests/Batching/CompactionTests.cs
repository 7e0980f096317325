using NativeEE.Batching;
using NativeEE.Tests.Engine;

namespace NativeEE.Tests.Batching;

/// <summary>Exited samples leave the batch: later layers compute exactly the rows still running, and no layer after the last exit runs.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class CompactionTests(MiniLmFixture fixture)
{
    /// <summary>Exits after layer 1 exactly the samples whose head there says "positive", never elsewhere.</summary>
    sealed class PositiveAtLayerOne : ExitPolicy
    {
        public override string Spec => "test:positive-at-1";
        public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state) => layer == 1 && probabilities[1] > 0.5f;
    }

    sealed class ExitAtLayerOne : ExitPolicy
    {
        public override string Spec => "test:exit-at-1";
        public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state) => layer == 1;
    }

    sealed class Recorder : ILayerObserver
    {
        public readonly List<(int Layer, int Sequences, int Rows)> Runs = [];
        public void LayerRan(int layer, int sequences, int tokenRows) => Runs.Add((layer, sequences, tokenRows));
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void HalfExitAtLayerOneAndLaterLayersSeeOnlyTheRest()
    {
        // From the PyTorch reference: 8 rows whose layer-1 head says positive and 8 that say negative, clear of the 0.5 boundary.
        var reference = ReferenceData.Instance;
        var positive = new List<int>();
        var negative = new List<int>();
        for (int i = 0; i < reference.Count; i++)
        {
            float margin = reference.LayerLogits[1][i * 2 + 1] - reference.LayerLogits[1][i * 2];
            if (margin > 0.1f && positive.Count < 8) positive.Add(i);
            else if (margin < -0.1f && negative.Count < 8) negative.Add(i);
        }
        Assert.Equal(8, positive.Count);
        Assert.Equal(8, negative.Count);
        // Interleave so survivors are scattered through the packed rows and must be moved.
        var rows = positive.Zip(negative, (p, n) => new[] { p, n }).SelectMany(x => x).ToArray();
        var sequences = rows.Select(i => reference.Ids[i]).ToArray();
        var offsets = new int[rows.Length + 1];
        for (int i = 0; i < rows.Length; i++) offsets[i + 1] = offsets[i] + sequences[i].Length;
        int allTokens = offsets[^1], remainingTokens = negative.Sum(i => reference.Ids[i].Length);

        var model = fixture.Model;
        var recorder = new Recorder();
        var results = new Prediction[rows.Length];
        var policy = new PositiveAtLayerOne();
        model.LayerObserver = recorder;
        try { model.Classify(sequences.SelectMany(s => s).ToArray(), offsets, results, policy, Ct); }
        finally { model.LayerObserver = null; }

        Assert.Equal([(0, 16, allTokens), (1, 16, allTokens), (2, 8, remainingTokens), (3, 8, remainingTokens), (4, 8, remainingTokens), (5, 8, remainingTokens)], recorder.Runs);
        for (int k = 0; k < rows.Length; k++)
        {
            bool isPositive = positive.Contains(rows[k]);
            Assert.Equal(isPositive ? 1 : 5, results[k].ExitLayer);
            var single = model.Classify(sequences[k], policy, Ct);
            Assert.Equal(single.ExitLayer, results[k].ExitLayer);
            Assert.Equal(single.Label, results[k].Label);
            for (int c = 0; c < 2; c++) Assert.True(MathF.Abs(single.Logits[c] - results[k].Logits[c]) < 1e-4f);
            // The answering head's logits are the reference's for that layer.
            int l = results[k].ExitLayer;
            for (int c = 0; c < 2; c++) Assert.True(MathF.Abs(reference.LayerLogits[l][rows[k] * 2 + c] - results[k].Logits[c]) < 1e-4f);
        }
    }

    [Fact]
    public void LayersAfterTheLastExitAreNotComputed()
    {
        var eval = EvalSet.Test;
        var model = fixture.Model;
        var recorder = new Recorder();
        var results = new Prediction[10];
        model.LayerObserver = recorder;
        try { model.Classify(eval.FlatIds.AsSpan(0, eval.Offsets[10]), eval.Offsets.AsSpan(0, 11), results, new ExitAtLayerOne(), Ct); }
        finally { model.LayerObserver = null; }
        Assert.Equal([0, 1], recorder.Runs.Select(r => r.Layer));
        Assert.All(results, r => Assert.Equal(1, r.ExitLayer));
        Assert.All(results, r => Assert.Equal(2, r.LayersRun));
    }

    [Fact]
    public void FullDepthComputesEveryLayerOnEveryRow()
    {
        var ids = EvalSet.Test.Ids[3];
        var recorder = new Recorder();
        fixture.Model.LayerObserver = recorder;
        try { fixture.Model.Classify(ids, ExitPolicy.FullDepth, Ct); }
        finally { fixture.Model.LayerObserver = null; }
        Assert.Equal(Enumerable.Range(0, 6).Select(l => (l, 1, ids.Length)), recorder.Runs);
    }
}
