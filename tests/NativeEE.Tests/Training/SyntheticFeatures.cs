using NativeEE.Training;

namespace NativeEE.Tests.Training;

/// <summary>Seeded Gaussian blobs standing in for frozen [CLS] features: one well-separated cluster per class.</summary>
internal static class SyntheticFeatures
{
    /// <summary>
    /// N samples in H dimensions, C classes, L layers. Layer l's clusters are <paramref name="separation"/>·(l+1)/L
    /// apart (later layers separate better, as in an encoder). Final logits come from a noisy linear
    /// teacher that mostly agrees with the labels. Sets with the same <paramref name="centerSeed"/> share
    /// their clusters (a training and a dev set); <paramref name="seed"/> draws the samples.
    /// </summary>
    public static FeatureSet Blobs(int n, int hidden, int classes, int layers = 1, int seed = 1, float separation = 4f, float noise = 1f, int centerSeed = 0)
    {
        var centerRng = new Random(centerSeed);
        var centers = new float[classes * hidden];
        for (int i = 0; i < centers.Length; i++) centers[i] = Gaussian(centerRng) / MathF.Sqrt(2f);
        var rng = new Random(seed);
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.Next(classes);
        var states = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            float scale = separation * (l + 1) / layers;
            var x = states[l] = new float[n * hidden];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hidden; j++)
                    x[i * hidden + j] = scale * centers[labels[i] * hidden + j] + noise * Gaussian(rng);
        }
        var logits = new float[n * classes];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < classes; k++)
                logits[i * classes + k] = (k == labels[i] ? 3f : 0f) + Gaussian(rng);
        return new FeatureSet(hidden, classes, states, labels, logits, new Dictionary<string, string> { ["source"] = $"blobs seed {seed}" });
    }

    public static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
