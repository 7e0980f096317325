using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class FeatureSetBuilderTests
{
    const int L = 3, H = 4, C = 2;

    /// <summary>A fake backbone whose outputs encode the sequence, the layer and the unit, so any mix-up shows.</summary>
    static void FakeBackbone(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> offsets, Span<float> cls, Span<float> logits)
    {
        int n = offsets.Length - 1;
        Assert.Equal(tokenIds.Length, offsets[n]);
        for (int i = 0; i < n; i++)
        {
            var seq = tokenIds[offsets[i]..offsets[i + 1]];
            float key = Key(seq);
            for (int l = 0; l < L; l++)
                for (int j = 0; j < H; j++) cls[(i * L + l) * H + j] = key + 100 * l + j;
            logits[i * C] = -key;
            logits[i * C + 1] = key;
        }
    }

    static float Key(ReadOnlySpan<int> seq)
    {
        float k = seq.Length;
        foreach (int t in seq) k = k * 3 + t;
        return k % 1000;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public void EverySampleLandsInItsRowForEveryLayerWhateverTheBatch(int batchSize)
    {
        var rng = new Random(5);
        var ids = new List<int[]>();
        var labels = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            var seq = new int[1 + rng.Next(6)];
            for (int t = 0; t < seq.Length; t++) seq[t] = rng.Next(50);
            ids.Add(seq);
            labels.Add(i % C);
        }
        var done = new List<int>();
        var set = FeatureSetBuilder.Build(FakeBackbone, L, H, C, ids, labels, batchSize,
            new Dictionary<string, string> { ["data"] = "fake.tsv" }, new SyncProgress(done), TestContext.Current.CancellationToken);

        Assert.Equal((10, L, H, C), (set.Count, set.Layers, set.Hidden, set.Classes));
        for (int i = 0; i < 10; i++)
        {
            float key = Key(ids[i]);
            for (int l = 0; l < L; l++)
                for (int j = 0; j < H; j++) Assert.Equal(key + 100 * l + j, set.LayerStates(l).Span[i * H + j]);
            Assert.Equal(key, set.FinalLogits.Span[i * C + 1]);
            Assert.Equal(labels[i], set.Labels.Span[i]);
        }
        Assert.Equal("fake.tsv", set.Metadata["data"]);
        Assert.Equal(10, done[^1]);
        Assert.Equal((10 + batchSize - 1) / batchSize, done.Count);
    }

    [Fact]
    public void BadSamplesAreRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.Contains("Label 5", Assert.Throws<ArgumentException>(() => FeatureSetBuilder.Build(FakeBackbone, L, H, C, [[1, 2]], [5], cancellationToken: ct)).Message);
        Assert.Contains("no tokens", Assert.Throws<ArgumentException>(() => FeatureSetBuilder.Build(FakeBackbone, L, H, C, [[]], [0], cancellationToken: ct)).Message);
        Assert.Contains("2 labels for 1", Assert.Throws<ArgumentException>(() => FeatureSetBuilder.Build(FakeBackbone, L, H, C, [[1]], [0, 1], cancellationToken: ct)).Message);
    }

    sealed class SyncProgress(List<int> sink) : IProgress<int>
    {
        public void Report(int value) => sink.Add(value);
    }
}

/// <summary>The builder on the real model, against the PyTorch reference states of the first test sentences.</summary>
[Collection(NativeEE.Tests.Engine.MiniLmCollection.Name)]
public class FeatureSetBuilderOnMiniLmTests(NativeEE.Tests.Engine.MiniLmFixture fixture)
{
    [Fact]
    public void FeaturesFromTextsMatchThePyTorchReference()
    {
        var reference = NativeEE.Tests.Engine.ReferenceData.Instance;
        const int n = 12, h = NativeEE.Tests.Engine.ReferenceData.Hidden, c = NativeEE.Tests.Engine.ReferenceData.Labels;
        var texts = reference.Texts.Take(n).ToList();
        var ids = FeatureSetBuilder.Tokenize(fixture.Model, texts);
        for (int i = 0; i < n; i++) Assert.Equal(reference.Ids[i], ids[i]);

        var set = FeatureSetBuilder.Build(fixture.Model, texts, Enumerable.Repeat(1, n).ToList(), batchSize: 5,
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal((n, 6, h, c), (set.Count, set.Layers, set.Hidden, set.Classes));
        Assert.Equal(fixture.Model.Directory, set.Metadata["model"]);
        for (int l = 0; l < 6; l++)
            for (int k = 0; k < n * h; k++)
                Assert.True(MathF.Abs(set.LayerStates(l).Span[k] - reference.Cls[l][k]) < 1e-4f, $"layer {l}, value {k}");
        for (int k = 0; k < n * c; k++) Assert.True(MathF.Abs(set.FinalLogits.Span[k] - reference.LayerLogits[5][k]) < 1e-4f);
    }
}
