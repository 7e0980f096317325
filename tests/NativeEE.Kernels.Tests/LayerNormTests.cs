using NativeEE.Kernels;

namespace NativeEE.Kernels.Tests;

/// <summary>
/// LayerNorm vs the double-accumulating oracle. Error bound per element:
/// 1e-6·(|y| + |γ|·(|x| + |mean|)/σ + |β|): the float mean is good to a few ulp of the row's magnitude,
/// and x − mean inherits that absolute error, so near-mean elements are bounded by the row scale,
/// not by their own (small) value. Measured worst ≈ 2e-7 of that scale.
/// </summary>
public class LayerNormTests
{
    const double Tolerance = 1e-6;
    const float Eps = 1e-12f;

    static (float[] Expected, double[] Scale) Oracle(float[] x, int rows, int cols, float[] gamma, float[] beta, float eps)
    {
        var expected = new float[rows * cols];
        LayerNorm.ForwardReference(x, rows, cols, gamma, beta, eps, expected);
        var scale = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < cols; i++) mean += x[r * cols + i];
            mean /= cols;
            for (int i = 0; i < cols; i++) { double d = x[r * cols + i] - mean; var += d * d; }
            double inv = 1.0 / Math.Sqrt(var / cols + eps);
            for (int i = 0; i < cols; i++)
                scale[r * cols + i] = Math.Abs(gamma[i]) * (Math.Abs(x[r * cols + i]) + Math.Abs(mean)) * inv + Math.Abs(beta[i]);
        }
        return (expected, scale);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void EveryShapeMatchesTheOracleAlsoInPlace(IsaPath path)
    {
        foreach (int cols in KernelVariants.Lengths)
        {
            foreach (int rows in new[] { 1, 3 })
            {
                // Hidden states with an offset and spread like BERT's residual stream; γ, β like trained weights.
                float[] x = KernelVariants.Normal(cols + 31 * rows, rows * cols, scale: 2f, offset: 0.7f);
                float[] gamma = KernelVariants.Normal(cols + 1, cols, scale: 0.1f, offset: 1f);
                float[] beta = KernelVariants.Normal(cols + 2, cols, scale: 0.1f);
                var (expect, scale) = Oracle(x, rows, cols, gamma, beta, Eps);
                var y = new float[x.Length + 1];
                y[^1] = 7f;
                LayerNorm.Forward(x, rows, cols, gamma, beta, Eps, y, path);
                KernelVariants.AssertClose(expect, y.AsSpan(0, x.Length), Tolerance, scale, $"layernorm {rows}×{cols}");
                Assert.Equal(7f, y[^1]);
                LayerNorm.Forward(x, rows, cols, gamma, beta, Eps, x, path);
                KernelVariants.AssertClose(expect, x, Tolerance, scale, $"layernorm in place {rows}×{cols}");
            }
        }
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void LargeOffsetDoesNotCancelTheVariance(IsaPath path)
    {
        // mean 1e4, σ 1: a one-pass E[x²] − E[x]² in float would lose everything here.
        const int cols = 768;
        float[] x = KernelVariants.Normal(5, cols, scale: 1f, offset: 1e4f);
        float[] gamma = Enumerable.Repeat(1f, cols).ToArray(), beta = new float[cols];
        var (expect, scale) = Oracle(x, 1, cols, gamma, beta, 1e-5f);
        var y = new float[cols];
        LayerNorm.Forward(x, 1, cols, gamma, beta, 1e-5f, y, path);
        KernelVariants.AssertClose(expect, y, Tolerance, scale, "offset row");
        double sumSq = y.Sum(v => (double)v * v);
        Assert.Equal(1.0, sumSq / cols, 1e-3);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void ConstantRowGivesBeta(IsaPath path)
    {
        foreach (int cols in KernelVariants.Lengths)
        {
            float[] x = Enumerable.Repeat(3.25f, cols).ToArray();
            float[] gamma = KernelVariants.Normal(1, cols), beta = KernelVariants.Normal(2, cols);
            var y = new float[cols];
            LayerNorm.Forward(x, 1, cols, gamma, beta, 1e-12f, y, path);
            Assert.Equal(beta, y);
        }
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[12], 3, 4, new float[3], new float[4], 1e-5f, new float[12]));
        Assert.Contains("gamma", ex.Message);
        Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[11], 3, 4, new float[4], new float[4], 1e-5f, new float[12]));
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerNorm.Forward(new float[12], 3, 0, new float[4], new float[4], 1e-5f, new float[12]));
    }
}
