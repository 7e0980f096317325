using System.Globalization;
using NativeEE.Tests.Safetensors;
using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class ExitHeadSoupTests
{
    static readonly FeatureSet Train = SyntheticFeatures.Blobs(n: 600, hidden: 16, classes: 3, layers: 3, seed: 1, separation: 3f, noise: 1.5f);
    static readonly FeatureSet Dev = SyntheticFeatures.Blobs(n: 300, hidden: 16, classes: 3, layers: 3, seed: 2, separation: 3f, noise: 1.5f);
    static readonly ExitHeadTrainerOptions Fast = ExitHeadTrainerOptions.Recommended with { Epochs = 2, BatchSize = 32, Threads = 2 };

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void AveragedFileHoldsTheElementWiseMeanOfThePerSeedHeads()
    {
        int[] seeds = [1, 42, 7];
        var start = ExitHead.CreateRandom(Train.Hidden, Train.Classes, seed: 3);
        var initial = new Dictionary<int, ExitHead> { [0] = start, [1] = start };
        var results = new ExitTrainingResult[seeds.Length];
        var sets = new IReadOnlyDictionary<int, ExitHead>[seeds.Length];
        for (int s = 0; s < seeds.Length; s++)
        {
            results[s] = new ExitHeadTrainer(Fast with { Seed = seeds[s] }).Train(Train, [0, 1], Dev, initial, cancellationToken: Ct);
            sets[s] = results[s].Heads;
        }
        var soup = ExitHeadSoup.Average(sets);

        using var dir = new TempDirectory();
        string path = dir.File(ExitsFile.FileName);
        ExitsFile.Save(path, soup, ExitHeadSoup.ToMetadata(results, [0.5, 0.75]));
        var back = ExitsFile.Load(path);

        Assert.Equal([0, 1], back.Keys.Order());
        foreach (int layer in new[] { 0, 1 })
        {
            var h = back[layer];
            AssertMean(h.PoolerWeight, sets, layer, x => x.PoolerWeight.ToArray());
            AssertMean(h.PoolerBias, sets, layer, x => x.PoolerBias.ToArray());
            AssertMean(h.ClassifierWeight, sets, layer, x => x.ClassifierWeight.ToArray());
            AssertMean(h.ClassifierBias, sets, layer, x => x.ClassifierBias.ToArray());
            // The seeds really differ, so the mean is not trivially one of them.
            Assert.False(sets[0][layer].PoolerWeight.SequenceEqual(sets[1][layer].PoolerWeight));
            Assert.False(h.PoolerWeight.SequenceEqual(sets[0][layer].PoolerWeight));
        }

        using var file = NativeEE.Safetensors.SafetensorsFile.Open(path);
        Assert.Equal("1,42,7", file.Metadata["train.seed"]);
        Assert.Equal("0.5,0.75", file.Metadata["train.dev_accuracy"]);
        Assert.Contains("mean of 3 head sets", file.Metadata["train.soup"]);
        Assert.Equal(results[1].ToMetadata()["train.dev_accuracy"], file.Metadata["train.seed.42.dev_accuracy"]);
        Assert.Equal(results[2].ToMetadata()["train.final_loss"], file.Metadata["train.seed.7.final_loss"]);
        Assert.Equal("2", file.Metadata["train.epochs"]);
    }

    [Fact]
    public void SoupOfTwoSeedsStillClassifiesAndOneSetIsItsOwnMean()
    {
        var a = new ExitHeadTrainer(Fast with { Seed = 1 }).Train(Train, [2], cancellationToken: Ct).Heads;
        var b = new ExitHeadTrainer(Fast with { Seed = 2 }).Train(Train, [2], cancellationToken: Ct).Heads;
        var soup = ExitHeadSoup.Average([a, b]);
        Assert.True(soup[2].Accuracy(Dev.LayerStates(2).Span, Dev.Labels.Span) > 0.95);
        var one = ExitHeadSoup.Average([a]);
        Assert.True(one[2].PoolerWeight.SequenceEqual(a[2].PoolerWeight));
        Assert.True(one[2].ClassifierBias.SequenceEqual(a[2].ClassifierBias));
    }

    [Fact]
    public void MismatchedSetsAreRefused()
    {
        var a = new Dictionary<int, ExitHead> { [0] = ExitHead.CreateRandom(8, 2, 1), [1] = ExitHead.CreateRandom(8, 2, 2) };
        var otherLayers = new Dictionary<int, ExitHead> { [0] = ExitHead.CreateRandom(8, 2, 3), [2] = ExitHead.CreateRandom(8, 2, 4) };
        var otherShape = new Dictionary<int, ExitHead> { [0] = ExitHead.CreateRandom(8, 3, 5), [1] = ExitHead.CreateRandom(8, 2, 6) };
        Assert.Contains("layer 1", Assert.Throws<ArgumentException>(() => ExitHeadSoup.Average([a, otherLayers])).Message);
        Assert.Contains("C=3", Assert.Throws<ArgumentException>(() => ExitHeadSoup.Average([a, otherShape])).Message);
        Assert.Throws<ArgumentException>(() => ExitHeadSoup.Average([]));
    }

    static void AssertMean(ReadOnlySpan<float> actual, IReadOnlyDictionary<int, ExitHead>[] sets, int layer, Func<ExitHead, float[]> tensor)
    {
        var members = new float[sets.Length][];
        for (int s = 0; s < sets.Length; s++) members[s] = tensor(sets[s][layer]);
        Assert.Equal(members[0].Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double sum = 0;
            foreach (var m in members) sum += m[i];
            float expected = (float)(sum / sets.Length);
            Assert.True(expected == actual[i], string.Create(CultureInfo.InvariantCulture, $"element {i}: {actual[i]} vs mean {expected}"));
        }
    }
}
