using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class ExitProbabilitiesTests
{
    [Fact]
    public void FromFeaturesSoftmaxesEachHeadAndTakesTheModelsFinalLogits()
    {
        var set = SyntheticFeatures.Blobs(n: 40, hidden: 8, classes: 3, layers: 4, seed: 2);
        var heads = new Dictionary<int, ExitHead> { [0] = ExitHead.CreateRandom(8, 3, 1, 0), [2] = ExitHead.CreateRandom(8, 3, 1, 1) };
        var p = ExitProbabilities.FromFeatures(set, heads);
        Assert.Equal([0, 2, 3], p.Layers);
        Assert.Equal(4, p.TotalLayers);
        var logits = new float[40 * 3];
        heads[2].ComputeLogits(set.LayerStates(2).Span, 40, logits);
        for (int i = 0; i < 40; i++)
        {
            ExpectSoftmax(logits.AsSpan(i * 3, 3), p.Get(i, 1));
            ExpectSoftmax(set.FinalLogits.Span.Slice(i * 3, 3), p.Get(i, 2));
        }
        Assert.Equal(set.FinalAccuracy(), p.Accuracy(2));
        Assert.Equal(heads[0].Accuracy(set.LayerStates(0).Span, set.Labels.Span), p.Accuracy(0));
    }

    [Fact]
    public void SubsetAndFromLogitsKeepEveryExitOfTheChosenRows()
    {
        // logits[N=3, E=2, C=2]
        float[] logits = [0, 1, 2, 0, /**/ 0, 0, 1, 3, /**/ 5, 4, 0, 2];
        var p = ExitProbabilities.FromLogits([2, 5], 6, 2, logits, [1, 0, 1]);
        Assert.Equal(1 / (1 + Math.Exp(-1)), p.Get(0, 0)[1], 1e-6);
        Assert.Equal(1 / (1 + Math.Exp(2)), p.Get(2, 1)[0], 1e-6);
        var sub = p.Subset([2, 0]);
        Assert.Equal([1, 1], sub.Labels.ToArray());
        Assert.True(sub.Get(0, 1).SequenceEqual(p.Get(2, 1)));
        Assert.True(sub.Get(1, 0).SequenceEqual(p.Get(0, 0)));
        Assert.Equal([2, 5], sub.Layers);
    }

    [Fact]
    public void InconsistentTablesAreRefused()
    {
        Assert.Contains("ascending", Assert.Throws<ArgumentException>(() => new ExitProbabilities([3, 1, 5], 6, 2, new float[6], [0])).Message);
        Assert.Contains("final layer 5", Assert.Throws<ArgumentException>(() => new ExitProbabilities([1, 4], 6, 2, new float[4], [0])).Message);
        Assert.Contains("[N=1, E=2, C=2]", Assert.Throws<ArgumentException>(() => new ExitProbabilities([1, 5], 6, 2, new float[3], [0])).Message);
        var set = SyntheticFeatures.Blobs(n: 4, hidden: 8, classes: 2, layers: 3, seed: 2);
        Assert.Contains("layers 0…1", Assert.Throws<ArgumentException>(() => ExitProbabilities.FromFeatures(set, new Dictionary<int, ExitHead> { [2] = ExitHead.CreateRandom(8, 2, 1) })).Message);
    }

    static void ExpectSoftmax(ReadOnlySpan<float> logits, ReadOnlySpan<float> probabilities)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float z in logits) max = Math.Max(max, z);
        foreach (float z in logits) sum += Math.Exp(z - max);
        for (int k = 0; k < logits.Length; k++) Assert.Equal(Math.Exp(logits[k] - max) / sum, probabilities[k], 1e-6);
    }
}

/// <summary>The table computed by the real model, against the PyTorch reference logits of every exit.</summary>
[Collection(NativeEE.Tests.Engine.MiniLmCollection.Name)]
public class ExitProbabilitiesOnMiniLmTests(NativeEE.Tests.Engine.MiniLmFixture fixture)
{
    [Fact]
    public void EveryExitsProbabilitiesMatchThePyTorchReference()
    {
        var reference = NativeEE.Tests.Engine.ReferenceData.Instance;
        const int n = 10, c = 2;
        var p = ExitProbabilities.FromModel(fixture.Model, reference.Ids.Take(n).ToList(), Enumerable.Repeat(0, n).ToList(), batchSize: 4,
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([0, 1, 2, 3, 4, 5], p.Layers);
        Assert.Equal(6, p.TotalLayers);
        for (int i = 0; i < n; i++)
            for (int e = 0; e < 6; e++)
            {
                float z0 = reference.LayerLogits[e][i * c], z1 = reference.LayerLogits[e][i * c + 1];
                double p1 = 1 / (1 + Math.Exp(z0 - z1));
                Assert.Equal(p1, p.Get(i, e)[1], 1e-5);
            }
    }
}
