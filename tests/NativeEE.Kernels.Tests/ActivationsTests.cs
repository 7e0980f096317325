using NativeEE.Kernels;

namespace NativeEE.Kernels.Tests;

/// <summary>
/// GELU, GELU-tanh, tanh, exp and add: each width vs the double-precision oracle.
/// Tolerances (relative, per element; measured worst cases are in the comments):
/// exp 2.5e-7 (≈2 ulp; measured worst 1.2e-7), tanh 3e-7 (measured 1.4e-7), GELU 1e-6 on |x| ≤ 10 and in the
/// tail down to float underflow (measured 4.1e-7, the same on every width), GELU-tanh 4e-7 + 5e-7·|u| (see its test),
/// add exact. Identical results on every width are not required (FMA vs mul+add differ), only the bounds.
/// </summary>
public class ActivationsTests
{
    const double GeluTolerance = 1e-6;
    const double TanhTolerance = 3e-7;
    const double ExpTolerance = 2.5e-7;

    static float[] Sweep(float lo, float hi, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * i / (n - 1);
        return x;
    }

    [Fact]
    public void ErfOracleMatchesPublishedValues()
    {
        // erf and erfc to 16 digits (A&S tables / any arbitrary-precision package).
        Assert.Equal(0.5204998778130465, Activations.Erf(0.5), 1e-15);
        Assert.Equal(0.8427007929497149, Activations.Erf(1.0), 1e-15);
        Assert.Equal(0.9953222650189527, Activations.Erf(2.0), 1e-15);
        Assert.Equal(0.9999992569016276, Activations.Erf(3.5), 1e-15);
        Assert.Equal(-0.8427007929497149, Activations.Erf(-1.0), 1e-15);
                Assert.InRange(Activations.Erfc(3.0) / 2.209049699858544e-05 - 1, -1e-12, 1e-12);
        Assert.InRange(Activations.Erfc(5.0) / 1.5374597944280349e-12 - 1, -1e-12, 1e-12);
        Assert.InRange(Activations.Erfc(7.0) / 4.183825607779414e-23 - 1, -1e-12, 1e-12);
        Assert.InRange(Activations.Erfc(10.0) / 2.0884875837625448e-45 - 1, -1e-12, 1e-12);
        Assert.InRange(Activations.Erfc(-2.0) - (2 - 0.004677734981047266), -1e-15, 1e-15);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void GeluIsAccurateOverTheBertRange(IsaPath path)
    {
        float[] x = Sweep(-10f, 10f, 100_001);
        var y = new float[x.Length];
        Activations.Gelu(x, y, path);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double err = KernelVariants.RelativeError(y[i], Activations.GeluDouble(x[i]));
            if (!(err <= GeluTolerance)) Assert.Fail($"GELU({x[i]:R}) = {y[i]:R}, oracle {Activations.GeluDouble(x[i]):R}, relative error {err:E2}");
            worst = Math.Max(worst, err);
        }
        Assert.True(worst > 0, "a sweep with no rounding error at all means the oracle was compared with itself");
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void GeluTailAndSaturation(IsaPath path)
    {
        // Below −10 the result is a tiny tail that ends in float underflow near −13.2: relative 1e-6
        // down to the smallest normal float, then an absolute floor.
        float[] x = Sweep(-16f, -10f, 10_001);
        var y = new float[x.Length];
        Activations.Gelu(x, y, path);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Activations.GeluDouble(x[i]);
            if (!(Math.Abs(y[i] - e) <= GeluTolerance * Math.Abs(e) + 1e-37)) Assert.Fail($"GELU({x[i]:R}) = {y[i]:R}, oracle {e:R}");
        }
        x = Sweep(10f, 1e6f, 1001);
        Activations.Gelu(x, y.AsSpan(0, x.Length), path);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i], y[i]);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void GeluEdgeInputs(IsaPath path)
    {
        float[] x = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.MaxValue, -float.MaxValue, 1e-30f, -1e-30f, 1e-40f];
        var y = new float[x.Length];
        Activations.Gelu(x, y, path);
        Assert.Equal(0f, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.Equal(float.PositiveInfinity, y[2]);
        Assert.Equal(0f, y[3]);
        Assert.True(float.IsNaN(y[4]));
        Assert.Equal(float.MaxValue, y[5]);
        Assert.Equal(0f, y[6]);
        Assert.Equal(0.5e-30f, y[7], 1e-37f);
        Assert.Equal(-0.5e-30f, y[8], 1e-37f);
        Assert.Equal(GeluReferenceOf(1e-40f), y[9]);
    }

    static float GeluReferenceOf(float x) => Activations.GeluReference(x);

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void GeluTanhIsAccurate(IsaPath path)
    {
        float[] x = Sweep(-12f, 12f, 50_001);
        var y = new float[x.Length];
        Activations.GeluTanh(x, y, path);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Activations.GeluTanhDouble(x[i]);
            // u = √(2/π)(x + 0.044715x³) carries ~2 ulp of rounding, which e^−2|u| turns into 2|u|·ε relative:
            // conditioning of the formula itself (PyTorch's float version has it too), so the bound grows with |u|.
            double u = Math.Sqrt(2.0 / Math.PI) * (x[i] + 0.044715 * x[i] * x[i] * x[i]);
            double rtol = 4e-7 + 5e-7 * Math.Abs(u);
            if (!(Math.Abs(y[i] - e) <= rtol * Math.Abs(e) + 1e-36)) Assert.Fail($"GeluTanh({x[i]:R}) = {y[i]:R}, oracle {e:R}");
        }
        float[] edge = [0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -1e6f, 1e6f];
        var ye = new float[edge.Length];
        Activations.GeluTanh(edge, ye, path);
        Assert.Equal(0f, ye[0]);
        Assert.Equal(float.PositiveInfinity, ye[1]);
        Assert.Equal(0f, ye[2]);
        Assert.True(float.IsNaN(ye[3]));
        Assert.Equal(0f, ye[4]);
        Assert.Equal(1e6f, ye[5]);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void TanhIsAccurate(IsaPath path)
    {
        float[] x = Sweep(-12f, 12f, 100_001);
        var y = new float[x.Length];
        Activations.Tanh(x, y, path);
        for (int i = 0; i < x.Length; i++)
        {
            double err = KernelVariants.RelativeError(y[i], Math.Tanh(x[i]));
            if (!(err <= TanhTolerance)) Assert.Fail($"tanh({x[i]:R}) = {y[i]:R}, relative error {err:E2}");
        }
        // Small arguments, where 1 − e^−2x would cancel: relative accuracy must hold there too.
        float[] small = [1e-30f, -1e-30f, 1e-20f, 1e-10f, 3e-5f, 1e-3f, 0.1f, 0.6249f, 0.6251f];
        var ys = new float[small.Length];
        Activations.Tanh(small, ys, path);
        for (int i = 0; i < small.Length; i++)
            if (!(KernelVariants.RelativeError(ys[i], Math.Tanh(small[i])) <= TanhTolerance)) Assert.Fail($"tanh({small[i]:R}) = {ys[i]:R}");
        float[] edge = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-40f, float.MaxValue];
        var ye = new float[edge.Length];
        Activations.Tanh(edge, ye, path);
        Assert.Equal(0f, ye[0]);
        Assert.True(float.IsNegative(ye[1]) && ye[1] == 0f, "tanh(−0) keeps the sign");
        Assert.Equal(1f, ye[2]);
        Assert.Equal(-1f, ye[3]);
        Assert.True(float.IsNaN(ye[4]));
        Assert.Equal(1e-40f, ye[5]);
        Assert.Equal(1f, ye[6]);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void ExpIsAccurateWhereSoftmaxUsesIt(IsaPath path)
    {
        float[] x = Sweep(-87.3f, 88f, 100_001);
        var y = new float[x.Length];
        Activations.Exp(x, y, path);
        for (int i = 0; i < x.Length; i++)
        {
            double err = KernelVariants.RelativeError(y[i], Math.Exp(x[i]));
            if (!(err <= ExpTolerance)) Assert.Fail($"exp({x[i]:R}) = {y[i]:R}, relative error {err:E2}");
        }
        float[] edge = [0f, -0f, float.NegativeInfinity, float.NaN, -87.4f, -1000f, -float.MaxValue, 1e-30f];
        var ye = new float[edge.Length];
        Activations.Exp(edge, ye, path);
        Assert.Equal(1f, ye[0]);
        Assert.Equal(1f, ye[1]);
        Assert.Equal(0f, ye[2]);
        Assert.True(float.IsNaN(ye[3]));
        Assert.Equal(0f, ye[4]);
        Assert.Equal(0f, ye[5]);
        Assert.Equal(0f, ye[6]);
        Assert.Equal(1f, ye[7]);
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void EveryLengthMatchesTheOracleAlsoInPlace(IsaPath path)
    {
        foreach (int n in KernelVariants.Lengths)
        {
            float[] x = KernelVariants.Normal(n, n, scale: 3f);
            var expectGelu = new float[n];
            var expectTanh = new float[n];
            for (int i = 0; i < n; i++) { expectGelu[i] = Activations.GeluReference(x[i]); expectTanh[i] = MathF.Tanh(x[i]); }

            var y = new float[n + 1];
            y[n] = 12345f;
            Activations.Gelu(x, y, path);
            KernelVariants.AssertClose(expectGelu, y.AsSpan(0, n), GeluTolerance, what: $"gelu n={n}");
            Assert.Equal(12345f, y[n]);
            Activations.Tanh(x, y, path);
            KernelVariants.AssertClose(expectTanh, y.AsSpan(0, n), TanhTolerance, what: $"tanh n={n}");
            Assert.Equal(12345f, y[n]);

            float[] inPlace = (float[])x.Clone();
            Activations.Gelu(inPlace, inPlace, path);
            KernelVariants.AssertClose(expectGelu, inPlace, GeluTolerance, what: $"gelu in place n={n}");
            inPlace = (float[])x.Clone();
            Activations.Tanh(inPlace, inPlace, path);
            KernelVariants.AssertClose(expectTanh, inPlace, TanhTolerance, what: $"tanh in place n={n}");
        }
    }

    [Theory, MemberData(nameof(KernelVariants.All), MemberType = typeof(KernelVariants))]
    public void AddIsExactForEveryLengthAlsoInPlace(IsaPath path)
    {
        foreach (int n in KernelVariants.Lengths)
        {
            float[] a = KernelVariants.Normal(2 * n, n), b = KernelVariants.Normal(2 * n + 1, n, scale: 100f);
            var y = new float[n];
            Activations.Add(a, b, y, path);
            for (int i = 0; i < n; i++) Assert.Equal(a[i] + b[i], y[i]);
            float[] expect = (float[])y.Clone();
            Activations.Add(a, b, a, path);
            Assert.Equal(expect, a);
        }
    }

    [Fact]
    public void PublicEntryPointsUseTheActivePath()
    {
        float[] x = KernelVariants.Normal(7, 1000, scale: 4f);
        var viaPublic = new float[x.Length];
        var viaActive = new float[x.Length];
        Activations.Gelu(x, viaPublic);
        Activations.Gelu(x, viaActive, Isa.Active);
        Assert.Equal(viaActive, viaPublic);
        Activations.Tanh(x, viaPublic);
        Activations.Tanh(x, viaActive, Isa.Active);
        Assert.Equal(viaActive, viaPublic);
    }

    [Fact]
    public void MismatchedLengthsAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Activations.Gelu(new float[4], new float[3]));
        Assert.Contains("at least as long", ex.Message);
        Assert.Throws<ArgumentException>(() => Activations.Add(new float[4], new float[3], new float[4]));
    }
}
