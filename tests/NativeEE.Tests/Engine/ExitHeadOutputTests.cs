namespace NativeEE.Tests.Engine;

public sealed class ExitHeadOutputTests
{
    [Fact]
    public void ExposesLayerLogitsAndProbabilities()
    {
        var head = new ExitHeadOutput(4, [0.5f, -0.5f], [0.73f, 0.27f]);
        Assert.Equal(4, head.Layer);
        Assert.Equal([0.5f, -0.5f], head.Logits.ToArray());
        Assert.Equal([0.73f, 0.27f], head.Probabilities.ToArray());
    }
}
