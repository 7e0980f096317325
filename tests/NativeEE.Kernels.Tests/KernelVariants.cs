using NativeEE.Kernels;

namespace NativeEE.Kernels.Tests;

/// <summary>
/// Every width a kernel has, as theory data: tests run all of them on every machine (a width the CPU
/// lacks runs the portable vector code in software), so a path is never tested only where it is fastest.
/// </summary>
public static class KernelVariants
{
    public static TheoryData<IsaPath> All => new() { IsaPath.Scalar, IsaPath.Vector128, IsaPath.Vector256, IsaPath.Vector512 };

    /// <summary>Lengths around every vector width and unroll boundary (4, 8, 16 lanes; ×4 unroll), plus BERT's 768 and 3072.</summary>
    public static readonly int[] Lengths = [1, 2, 3, 7, 15, 16, 17, 31, 33, 127, 128, 129, 768, 3072];

    /// <summary>Seeded uniform floats in [lo, hi).</summary>
    public static float[] Uniform(int seed, int n, float lo, float hi)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.NextSingle();
        return a;
    }

    /// <summary>Seeded standard-normal floats times <paramref name="scale"/> plus <paramref name="offset"/>.</summary>
    public static float[] Normal(int seed, int n, float scale = 1f, float offset = 0f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = (float)(offset + scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }

    /// <summary>|actual − expected| / |expected| (0 when both are 0).</summary>
    public static double RelativeError(float actual, double expected)
        => actual == expected ? 0 : Math.Abs(actual - expected) / Math.Abs(expected);

    /// <summary>
    /// Asserts |actual[i] − expected[i]| ≤ rtol·(|expected[i]| + scale[i]) for every i, naming the first
    /// offender. <paramref name="scale"/> is the magnitude that rounding errors are relative to where
    /// the result itself is small through cancellation (e.g. LayerNorm's |γ|·(|x| + |mean|)/σ); null = pure relative.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, ReadOnlySpan<double> scale = default, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a))
            {
                if (!(double.IsNaN(e) && double.IsNaN(a))) Assert.Fail($"{what}[{i}]: expected {e}, got {a}");
                continue;
            }
            if (e == a) continue;
            double bound = rtol * (Math.Abs(e) + (scale.IsEmpty ? 0 : scale[i]));
            if (!(Math.Abs(a - e) <= bound)) Assert.Fail($"{what}[{i}] of {expected.Length}: expected {e:R}, got {a:R}, |Δ| = {Math.Abs(a - e):E3} > bound {bound:E3} (rtol {rtol:E1})");
        }
    }
}
