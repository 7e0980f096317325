using NativeEE.Safetensors;
using NativeEE.Tests.Safetensors;
using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class FeatureSetTests
{
    [Fact]
    public void CacheRoundTripsEveryArrayAndTheMetadata()
    {
        using var dir = new TempDirectory();
        var set = SyntheticFeatures.Blobs(n: 50, hidden: 8, classes: 3, layers: 4, seed: 3);
        set.Save(dir.File("train.features.safetensors"));
        var back = FeatureSet.Load(dir.File("train.features.safetensors"));
        Assert.Equal((50, 4, 8, 3), (back.Count, back.Layers, back.Hidden, back.Classes));
        for (int l = 0; l < 4; l++) Assert.True(back.LayerStates(l).Span.SequenceEqual(set.LayerStates(l).Span));
        Assert.True(back.Labels.Span.SequenceEqual(set.Labels.Span));
        Assert.True(back.FinalLogits.Span.SequenceEqual(set.FinalLogits.Span));
        Assert.Equal("blobs seed 3", back.Metadata["source"]);
        Assert.False(back.Metadata.ContainsKey("format"));

        var noLogits = new FeatureSet(8, 3, [set.LayerStates(0).ToArray()], set.Labels.ToArray(), []);
        noLogits.Save(dir.File("nologits.safetensors"));
        Assert.False(FeatureSet.Load(dir.File("nologits.safetensors")).HasFinalLogits);
    }

    [Fact]
    public void SubsetCopiesTheChosenRowsInOrder()
    {
        var set = SyntheticFeatures.Blobs(n: 30, hidden: 4, classes: 3, layers: 2, seed: 8);
        var sub = set.Subset([7, 2, 29]);
        Assert.Equal(3, sub.Count);
        for (int l = 0; l < 2; l++)
            Assert.True(sub.LayerStates(l).Span[4..8].SequenceEqual(set.LayerStates(l).Span[8..12]));
        Assert.Equal([set.Labels.Span[7], set.Labels.Span[2], set.Labels.Span[29]], sub.Labels.ToArray());
        Assert.True(sub.FinalLogits.Span[6..9].SequenceEqual(set.FinalLogits.Span[87..90]));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Subset([30]));
    }

    [Fact]
    public void FinalAccuracyCountsArgmaxHits()
    {
        // Logits rows: argmax 1, 0, 1, 0 (the tie resolves to the first class, as torch.argmax).
        var set = new FeatureSet(1, 2, [new float[4]], [1, 0, 0, 1], [0, 2, 5, -1, 0, 3, 7, 7]);
        Assert.Equal(0.5, set.FinalAccuracy());
    }

    [Fact]
    public void InconsistentInputIsRefused()
    {
        Assert.Contains("Layer 1", Assert.Throws<ArgumentException>(() => new FeatureSet(2, 2, [new float[4], new float[3]], [0, 1], [])).Message);
        Assert.Contains("Label 2", Assert.Throws<ArgumentException>(() => new FeatureSet(2, 2, [new float[4]], [0, 2], [])).Message);
        Assert.Contains("Final logits", Assert.Throws<ArgumentException>(() => new FeatureSet(2, 2, [new float[4]], [0, 1], new float[3])).Message);

        using var dir = new TempDirectory();
        ExitsFile.Save(dir.File("exits.safetensors"), new Dictionary<int, ExitHead> { [0] = ExitHead.CreateRandom(4, 2, 1) });
        Assert.Contains("nativeee-features", Assert.Throws<SafetensorsException>(() => FeatureSet.Load(dir.File("exits.safetensors"))).Message);
    }
}
