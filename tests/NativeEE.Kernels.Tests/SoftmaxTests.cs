using NativeEE.Kernels;

namespace NativeEE.Kernels.Tests;

/// <summary>
/// Softmax vs the double-accumulating oracle. Tolerance per element, relative: 1e-6 + 1e-7·|x − max|.
/// The 1e-6 covers exp (≈ 1 ulp), the float row sum (≲ 4 ulp at 3072 columns), a division and a multiply;
/// the second term is the rounding of x − max in float (≤ 2⁻²⁴·|x − max|), which exp turns into a
/// relative error of the same size — the same as any float softmax (PyTorch's included) has, and
/// only on probabilities that are already small (e^−20 ≈ 2e-9 has 2e-6 relative).
/// </summary>
public class SoftmaxTests
{
    const double Tolerance = 1e-6;

    /// <summary>The oracle's output and, per element, the extra scale |y|·|x − max|·0.1 (so rtol·scale = 1e-7·|x − max|·|y|).</summary>
    internal static (float[] Expected, double[] Scale) Oracle(float[] x, int rows, int cols)
    {
        var expected = new float[x.Length];
        Softmax.ForwardReference(x, rows, cols, expected);
        var scale = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            float max = float.NegativeInfinity;
            for (int i = 0; i < cols; i++) max = MathF.Max(max, x[r * cols + i]);
            for (int i = 0; i < cols; i++)
            {
                double d = Math.Abs((double)x[r * cols + i] - max);
                scale[r * cols + i] = double.IsFinite(d) ? Math.Abs(expected[r * cols + i]) * d * 0.1 : 0;
            }
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
                // Scores of attention-like spread: exp spans ~1e-13..1 within a row.
                float[] x = KernelVariants.Normal(cols * 7 + rows, rows * cols, scale: 6f, offset: 3f);
                var (expect, scale) = Oracle(x, rows, cols);
                var y = new float[x.Length + 1];
                y[^1] = 42f;
                Softmax.Forward(x, rows, cols, y, path);
                KernelVariants.AssertClose(expect, y.AsSpan(0, x.Length), Tolerance, scale, $"softmax {rows}×{cols}");
                Assert.Equal(42f, y[^1]);
                Softmax.Forward(x, rows, cols, x, path);
                KernelVariants.AssertClose(expect, x, Tolerance, scale, $"softmax in place {rows}×{cols}");
            }
        }
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void RowsSumToOne(IsaPath path)
    {
        const int rows = 5, cols = 768;
        float[] x = KernelVariants.Uniform(11, rows * cols, -30f, 30f);
        var y = new float[x.Length];
        Softmax.Forward(x, rows, cols, y, path);
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int i = 0; i < cols; i++) { Assert.InRange(y[r * cols + i], 0f, 1f); sum += y[r * cols + i]; }
            Assert.Equal(1.0, sum, 1e-5);
        }
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void ExtremeInputsStayFinite(IsaPath path)
    {
        // Large logits would overflow exp without the max subtraction; −∞ (a hard mask) must give exactly 0.
        float[] x = [1000f, 0f, float.NegativeInfinity, 999f, -1e30f, 1000f, float.NegativeInfinity, 1000f, 1000f, -3.4e38f, 0f, 1000f, 1000f, 1000f, 1000f, 1000f, 1000f];
        var y = new float[x.Length];
        Softmax.Forward(x, 1, x.Length, y, path);
        var (expect, scale) = Oracle(x, 1, x.Length);
        KernelVariants.AssertClose(expect, y, Tolerance, scale, "extreme");
        Assert.Equal(0f, y[2]);
        Assert.Equal(0f, y[4]);
        Assert.Equal(0f, y[6]);
        Assert.Equal(0f, y[1]);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void ConstantAndDegenerateRows(IsaPath path)
    {
        foreach (int cols in KernelVariants.Lengths)
        {
            var x = new float[cols];
            Array.Fill(x, 2.5f);
            var y = new float[cols];
            Softmax.Forward(x, 1, cols, y, path);
            foreach (float v in y) Assert.Equal(1.0 / cols, v, 1e-6 / cols);
        }
        // All keys masked out: like PyTorch, NaN rather than an invented distribution.
        float[] masked = [float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity];
        var ym = new float[3];
        Softmax.Forward(masked, 1, 3, ym, path);
        Assert.All(ym, v => Assert.True(float.IsNaN(v)));
        float[] withNaN = Enumerable.Range(0, 40).Select(i => i == 17 ? float.NaN : i * 0.1f).ToArray();
        var yn = new float[withNaN.Length];
        Softmax.Forward(withNaN, 1, withNaN.Length, yn, path);
        Assert.All(yn, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Forward(new float[10], 3, 4, new float[12]));
        Assert.Contains("rows·cols", ex.Message);
        Assert.Throws<ArgumentException>(() => Softmax.Forward(new float[12], 3, 4, new float[11]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.Forward(new float[12], -1, 4, new float[12]));
    }
}
