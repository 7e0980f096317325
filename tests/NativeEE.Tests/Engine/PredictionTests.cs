namespace NativeEE.Tests.Engine;

public sealed class PredictionTests
{
    [Fact]
    public void DefaultIsNoPrediction()
    {
        var p = default(Prediction);
        Assert.False(p.HasValue);
        Assert.Equal("", p.LabelName);
        Assert.True(p.Probabilities.IsEmpty);
        Assert.True(p.Logits.IsEmpty);
        Assert.Equal("(no prediction)", p.ToString());
    }

    [Fact]
    public void InlineLabelsKeepProbabilitiesAndLogitsApart()
    {
        float[] logits = [1f, 3f, 2f], probabilities = [0.09f, 0.66f, 0.25f];
        var p = new Prediction(logits, probabilities, "b", 1, exitLayer: 2, tokenCount: 9, truncated: true, trace: null);
        Assert.True(p.HasValue);
        Assert.Equal(probabilities, p.Probabilities.ToArray());
        Assert.Equal(logits, p.Logits.ToArray());
        Assert.Equal(0.66f, p.Confidence);
        Assert.Equal(3, p.LabelCount);
        Assert.Equal(2, p.ExitLayer);
        Assert.Equal(3, p.LayersRun);
        Assert.Equal(9, p.TokenCount);
        Assert.True(p.Truncated);
        Assert.Equal("b (0.660) after layer 2", p.ToString());
    }

    [Fact]
    public void MoreLabelsThanInlineStorageStillWork()
    {
        int c = Prediction.InlineLabels + 5;
        var logits = Enumerable.Range(0, c).Select(i => (float)i).ToArray();
        var probabilities = Enumerable.Range(0, c).Select(i => i == c - 1 ? 0.5f : 0.5f / (c - 1)).ToArray();
        var p = new Prediction(logits, probabilities, "last", c - 1, 0, 2, false, null);
        Assert.Equal(logits, p.Logits.ToArray());
        Assert.Equal(probabilities, p.Probabilities.ToArray());
        Assert.Equal(0.5f, p.Confidence);
    }

    [Fact]
    public void IsAValueTypeSoResultsAllocateNothing()
    {
        Assert.True(typeof(Prediction).IsValueType);
    }
}
