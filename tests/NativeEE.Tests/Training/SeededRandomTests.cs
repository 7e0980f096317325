using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class SeededRandomTests
{
    [Fact]
    public void StreamsAreReproducibleAndIndependent()
    {
        var a = SeededRandom.Create(7, 1);
        var b = SeededRandom.Create(7, 1);
        var c = SeededRandom.Create(7, 2);
        var d = SeededRandom.Create(8, 1);
        ulong x = a.NextUInt64();
        Assert.Equal(x, b.NextUInt64());
        Assert.NotEqual(x, c.NextUInt64());
        Assert.NotEqual(x, d.NextUInt64());
    }

    [Fact]
    public void DistributionsHaveTheirMoments()
    {
        var r = SeededRandom.Create(3, 0);
        const int n = 200_000;
        double g = 0, g2 = 0, gamma = 0, beta = 0, beta2 = 0;
        var counts = new int[7];
        for (int i = 0; i < n; i++)
        {
            double z = r.NextGaussian();
            g += z;
            g2 += z * z;
            gamma += r.NextGamma(0.4);
            double bb = r.NextSymmetricBeta(0.4);
            Assert.InRange(bb, 0, 1);
            beta += bb;
            beta2 += bb * bb;
            counts[r.NextInt(7)]++;
        }
        Assert.InRange(g / n, -0.01, 0.01);
        Assert.InRange(g2 / n, 0.98, 1.02);
        Assert.InRange(gamma / n, 0.39, 0.41);                 // E[Gamma(k)] = k
        Assert.InRange(beta / n, 0.495, 0.505);                // E[Beta(a, a)] = 1/2
        Assert.InRange(beta2 / n - 0.25, 0.25 / 1.8 - 0.003, 0.25 / 1.8 + 0.003);  // Var = 1 / (4(2a + 1))
        Assert.All(counts, k => Assert.InRange(k, n / 7 * 0.97, n / 7 * 1.03));
        var items = Enumerable.Range(0, 50).ToArray();
        r.Shuffle(items);
        Assert.Equal(Enumerable.Range(0, 50), items.Order());
        Assert.NotEqual(Enumerable.Range(0, 50), items);
    }
}
