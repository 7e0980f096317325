using NativeEE.Batching;
using NativeEE.Tests.Engine;

namespace NativeEE.Tests.Batching;

/// <summary>
/// Lazy layer completion (<see cref="LayerDeferral"/>): a layer's non-[CLS] rows are finished only for the sequences
/// its head lets go on — with the same bits as finishing every row first, and exactly the rows still running.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class DeferredCompletionTests(MiniLmFixture fixture)
{
    const int Rows = 40;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed class Recorder : ILayerObserver
    {
        public readonly List<(int Layer, int Sequences, int Rows)> Lazy = [];
        public void LayerRan(int layer, int sequences, int tokenRows) { }
        public void LayerFinishedLazily(int layer, int sequences, int tokenRows) => Lazy.Add((layer, sequences, tokenRows));
    }

    Prediction[] Run(ExitPolicy policy, LayerDeferral? deferral, Recorder? recorder = null)
    {
        var model = fixture.Model;
        var eval = EvalSet.Test;
        var results = new Prediction[Rows];
        var saved = model.Deferral;
        model.Deferral = deferral;
        model.LayerObserver = recorder;
        try { model.Classify(eval.FlatIds.AsSpan(0, eval.Offsets[Rows]), eval.Offsets.AsSpan(0, Rows + 1), results, policy, Ct); }
        finally
        {
            model.Deferral = saved;
            model.LayerObserver = null;
        }
        return results;
    }

    /// <summary>Every layer finished lazily vs none: the same exit layers and bit-identical logits and probabilities, for every policy.</summary>
    [Theory]
    [InlineData("entropy:0.3")]
    [InlineData("maxprob:0.9")]
    [InlineData("patience:2")]
    [InlineData("pcee:2,0.9")]
    [InlineData("margin:0.8")]
    public void LazyLayersGiveTheSameBits(string spec)
    {
        var policy = ExitPolicy.Parse(spec);
        var recorder = new Recorder();
        var lazy = Run(policy, new LayerDeferral(fixture.Model.NumLayers, weightPassRows: -1), recorder);
        var eager = Run(policy, null);
        Assert.NotEmpty(recorder.Lazy);
        for (int i = 0; i < Rows; i++)
        {
            Assert.Equal(eager[i].ExitLayer, lazy[i].ExitLayer);
            Assert.True(eager[i].Logits.SequenceEqual(lazy[i].Logits), $"{spec}, row {i}: logits differ");
            Assert.True(eager[i].Probabilities.SequenceEqual(lazy[i].Probabilities), $"{spec}, row {i}: probabilities differ");
        }
    }

    /// <summary>After a lazy layer, exactly the rows of the sequences that did not exit there are finished.</summary>
    [Fact]
    public void OnlyTheRowsOfSequencesGoingOnAreFinished()
    {
        var eval = EvalSet.Test;
        var policy = ExitPolicy.Parse("entropy:0.3");
        var recorder = new Recorder();
        var results = Run(policy, new LayerDeferral(fixture.Model.NumLayers, weightPassRows: -1), recorder);
        int lastLayer = fixture.Model.NumLayers - 1;
        foreach (var (layer, sequences, rows) in recorder.Lazy)
        {
            int goingOn = 0, expectedRows = 0;
            for (int i = 0; i < Rows; i++)
                if (results[i].ExitLayer > layer)
                {
                    goingOn++;
                    expectedRows += eval.Offsets[i + 1] - eval.Offsets[i];
                }
            Assert.Equal(goingOn, sequences);
            Assert.Equal(expectedRows, rows);
            Assert.NotEqual(lastLayer, layer);
        }
        // Some sequences exited at an intermediate layer, so some lazy layers really saved rows.
        Assert.Contains(results, r => r.ExitLayer < lastLayer);
    }

    /// <summary>The rule: defer where the expected exiting tokens outweigh the second weight pass, learnt from past exit rates.</summary>
    [Fact]
    public void TheRuleFollowsTheExitRateSeen()
    {
        var d = new LayerDeferral(layers: 3);
        Assert.False(d.ShouldDefer(1, sequences: 1, tokens: 25)); // prior 0.2 · 25 = 5 < 1 + 12
        Assert.True(d.ShouldDefer(1, sequences: 8, tokens: 200));  // 0.2 · 200 = 40 > 8 + 12
        for (int i = 0; i < 50; i++) d.Record(1, sequences: 4, exited: 4);
        Assert.True(d.ExitRate(1) > 0.95f);
        Assert.True(d.ShouldDefer(1, sequences: 1, tokens: 25));
        for (int i = 0; i < 50; i++) d.Record(1, sequences: 4, exited: 0);
        Assert.True(d.ExitRate(1) < 0.01f);
        Assert.False(d.ShouldDefer(1, sequences: 8, tokens: 200));
        Assert.Equal(0.2f, d.ExitRate(0)); // layers are independent
    }
}
