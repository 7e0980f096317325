using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class ExitHeadTests
{
    [Fact]
    public void RandomInitIsPyTorchLinearUniformAndSeeded()
    {
        const int h = 64, c = 3;
        var a = ExitHead.CreateRandom(h, c, seed: 7, stream: 2);
        var b = ExitHead.CreateRandom(h, c, seed: 7, stream: 2);
        var other = ExitHead.CreateRandom(h, c, seed: 7, stream: 3);
        Assert.True(a.PoolerWeight.SequenceEqual(b.PoolerWeight));
        Assert.True(a.ClassifierBias.SequenceEqual(b.ClassifierBias));
        Assert.False(a.PoolerWeight.SequenceEqual(other.PoolerWeight));

        float bound = 1f / MathF.Sqrt(h);   // nn.Linear: kaiming_uniform(a=√5) ⇒ U(−1/√fan_in, 1/√fan_in), bias too
        var w = a.PoolerWeight.ToArray();
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.All(a.PoolerBias.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(a.ClassifierWeight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.True(w.Max() > 0.98f * bound && w.Min() < -0.98f * bound, "the init should span the whole interval");
        double mean = w.Average(v => (double)v), variance = w.Average(v => (double)v * v);
        Assert.InRange(mean, -0.02 * bound, 0.02 * bound);
        Assert.InRange(variance, 0.95 * bound * bound / 3, 1.05 * bound * bound / 3);   // U(−b, b) has variance b²/3
    }

    [Fact]
    public void LogitsMatchADoubleOracleAcrossChunks()
    {
        const int h = 24, c = 3, rows = 300;   // more rows than one internal chunk
        var rng = new Random(11);
        var head = ExitHead.CreateRandom(h, c, seed: 1);
        var x = new float[rows * h];
        for (int i = 0; i < x.Length; i++) x[i] = 2 * SyntheticFeatures.Gaussian(rng);
        var logits = new float[rows * c];
        head.ComputeLogits(x, rows, logits);
        for (int r = 0; r < rows; r++)
        {
            var pooled = new double[h];
            for (int j = 0; j < h; j++)
            {
                double a = head.PoolerBias[j];
                for (int k = 0; k < h; k++) a += (double)head.PoolerWeight[j * h + k] * x[r * h + k];
                pooled[j] = Math.Tanh(a);
            }
            for (int k = 0; k < c; k++)
            {
                double z = head.ClassifierBias[k];
                for (int j = 0; j < h; j++) z += head.ClassifierWeight[k * h + j] * pooled[j];
                Assert.True(Math.Abs(z - logits[r * c + k]) <= 1e-5 + 1e-5 * Math.Abs(z), $"row {r} class {k}: {logits[r * c + k]} vs {z}");
            }
        }

        var predictions = new int[rows];
        head.Predict(x, rows, predictions);
        var labels = new int[rows];
        int agree = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * c, c);
            int arg = row.IndexOf(MathF.Max(row[0], MathF.Max(row[1], row[2])));
            Assert.Equal(arg, predictions[r]);
            labels[r] = r % 2 == 0 ? arg : (arg + 1) % c;
            if (labels[r] == arg) agree++;
        }
        Assert.Equal((double)agree / rows, head.Accuracy(x, labels));
    }

    [Fact]
    public void CloneIsDeepAndConstructorChecksShapes()
    {
        var head = ExitHead.CreateRandom(8, 2, seed: 3);
        var copy = head.Clone();
        Assert.True(copy.PoolerWeight.SequenceEqual(head.PoolerWeight));
        Assert.NotSame(head, copy);
        Assert.False(System.Runtime.CompilerServices.Unsafe.AreSame(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(copy.PoolerWeight),
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(head.PoolerWeight)));

        var e = Assert.Throws<ArgumentException>(() => new ExitHead(8, 2, new float[64], new float[8], new float[15], new float[2]));
        Assert.Contains("classifier.weight", e.Message);
        Assert.Contains("[2,8]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExitHead.CreateRandom(8, 1, seed: 1));
    }
}
