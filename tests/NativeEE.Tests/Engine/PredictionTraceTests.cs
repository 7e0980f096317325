namespace NativeEE.Tests.Engine;

public sealed class PredictionTraceTests
{
    [Fact]
    public void KeepsHeadsInTheOrderAdded()
    {
        var trace = new PredictionTrace();
        trace.Add(0, [1f, -1f], [0.88f, 0.12f]);
        trace.Add(3, [-2f, 2f], [0.02f, 0.98f]);
        Assert.Equal([0, 3], trace.Heads.Select(h => h.Layer));
        Assert.Equal([-2f, 2f], trace.Heads[1].Logits.ToArray());
        Assert.Equal([0.02f, 0.98f], trace.Heads[1].Probabilities.ToArray());
    }

    [Fact]
    public void CopiesTheSpansItIsGiven()
    {
        var trace = new PredictionTrace();
        float[] logits = [1f, 2f], probabilities = [0.3f, 0.7f];
        trace.Add(1, logits, probabilities);
        logits[0] = 99f;
        probabilities[0] = 99f;
        Assert.Equal(1f, trace.Heads[0].Logits[0]);
        Assert.Equal(0.3f, trace.Heads[0].Probabilities[0]);
    }
}
