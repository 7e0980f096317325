using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class FeatureScalingTests
{
    [Fact]
    public void StandardisesEachDimensionAndFoldsExactlyIntoThePooler()
    {
        const int n = 500, h = 12, c = 3;
        var rng = new Random(4);
        var x = new float[n * h];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h; j++)
                x[i * h + j] = (j == 0 ? 8f : 0.3f * (j % 3 - 1)) + (j == 5 ? 0f : 0.001f * (j + 1)) * SyntheticFeatures.Gaussian(rng);
        var scaling = FeatureScaling.Fit(x, n, h);
        for (int j = 0; j < h; j++)
        {
            double m = 0, v = 0;
            for (int i = 0; i < n; i++) m += (x[i * h + j] - scaling.Mean[j]) * scaling.Scale[j];
            for (int i = 0; i < n; i++) v += Math.Pow((x[i * h + j] - scaling.Mean[j]) * scaling.Scale[j], 2);
            Assert.InRange(m / n, -1e-3, 1e-3);
            if (j != 5) Assert.InRange(v / n, 0.98, 1.0);   // ε (1% of the RMS σ) shrinks the variance a little
            else Assert.True(v / n < 1e-6, "a constant dimension must not be blown up");
        }

        // A head on standardised inputs and its folded form agree on raw inputs.
        var standardized = ExitHead.CreateRandom(h, c, seed: 2);
        var raw = scaling.ToRaw(standardized);
        var xs = new float[n * h];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h; j++) xs[i * h + j] = (x[i * h + j] - scaling.Mean[j]) * scaling.Scale[j];
        float[] a = new float[n * c], b = new float[n * c];
        standardized.ComputeLogits(xs, n, a);
        raw.ComputeLogits(x, n, b);
        for (int k = 0; k < a.Length; k++) Assert.True(MathF.Abs(a[k] - b[k]) < 2e-3f, $"logit {k}: {a[k]} vs {b[k]}");

        var back = scaling.ToStandardized(raw);
        for (int k = 0; k < h * h; k++)
            Assert.True(MathF.Abs(back.PoolerWeight[k] - standardized.PoolerWeight[k]) < 1e-6f);
        for (int k = 0; k < h; k++)
            Assert.True(MathF.Abs(back.PoolerBias[k] - standardized.PoolerBias[k]) < 1e-3f);
    }
}
