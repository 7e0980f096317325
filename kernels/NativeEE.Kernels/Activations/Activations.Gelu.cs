using System.Runtime.CompilerServices;

namespace NativeEE.Kernels;

public static partial class Activations
{
    /// <summary>
    /// x[n] → y[n] = GELU(x) = x·Φ(x), the exact erf form BERT uses (x·½·(1 + erf(x/√2))); in place allowed.
    /// Relative error ≲ 1e-6 for |x| ≤ 10 (also on the negative side, where the result is a small tail);
    /// GELU(+∞) = +∞, GELU(−∞) = −0, NaN → NaN.
    /// </summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y) => Gelu(x, y, Isa.Active);

    internal static void Gelu(ReadOnlySpan<float> x, Span<float> y, IsaPath path) => Elementwise.Unary<GeluOperator>(x, y, path);

    /// <summary>
    /// x[n] → y[n] = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the tanh approximation of GELU
    /// (Hugging Face's <c>gelu_new</c> / <c>gelu_pytorch_tanh</c>); in place allowed.
    /// </summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y) => GeluTanh(x, y, Isa.Active);

    internal static void GeluTanh(ReadOnlySpan<float> x, Span<float> y, IsaPath path) => Elementwise.Unary<GeluTanhOperator>(x, y, path);

    /// <summary>Scalar oracle for GELU (erf form), computed in double as ½·x·erfc(−x/√2), which does not cancel for negative x.</summary>
    public static float GeluReference(float x) => (float)GeluDouble(x);

    internal static double GeluDouble(double x) => 0.5 * x * Erfc(-x / Math.Sqrt(2.0));

    /// <summary>Scalar oracle for the tanh approximation of GELU, in double as x·σ(2u) (1 + tanh u would cancel for x ≪ 0).</summary>
    public static float GeluTanhReference(float x) => (float)GeluTanhDouble(x);

    internal static double GeluTanhDouble(double x) => x / (1.0 + Math.Exp(-2.0 * Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>erf in double (|error| &lt; 1e-15); oracle only.</summary>
    internal static double Erf(double x) => Math.Abs(x) < 3.0 ? ErfSeries(x) : Math.CopySign(1.0 - ErfcContinuedFraction(Math.Abs(x)), x);

    /// <summary>
    /// erfc in double with a small relative error everywhere (the tail from the continued fraction,
    /// not from 1 − erf); oracle only. The kernels evaluate Φ through <see cref="VectorMath.NormalTail"/>.
    /// </summary>
    internal static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x < 0) return 2.0 - Erfc(-x);
        return x < 3.0 ? 1.0 - ErfSeries(x) : ErfcContinuedFraction(x);
    }

    // Maclaurin series 2/√π·Σ (−1)ⁿx²ⁿ⁺¹/(n!(2n+1)); below 3 its terms (≤ 3⁹/…≈ 1e3) lose < 4 digits.
    static double ErfSeries(double x)
    {
        double sum = x, term = x, x2 = x * x;
        for (int n = 1; n < 200; n++)
        {
            term *= -x2 / n;
            double t = term / (2 * n + 1);
            sum += t;
            if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
        }
        return 2.0 / Math.Sqrt(Math.PI) * sum;
    }

    // erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))), evaluated by the modified Lentz method; x ≥ 3.
    static double ErfcContinuedFraction(double x)
    {
        if (double.IsPositiveInfinity(x)) return 0.0;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 200; n++)
        {
            double an = n * 0.5;
            d = 1 / (x + an * d);
            c = x + an / c;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }
}

/// <summary>
/// GELU(x) = x·Φ(x) with Φ from the lower tail: Φ(x) = Φ(−|x|) for x &lt; 0, 1 − Φ(−|x|) otherwise.
/// Writing it as 1 + erf would cancel for negative x; the tail keeps the relative error small there too.
/// </summary>
internal readonly struct GeluOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<W, TV>(TV x) where W : IVectorWidth<TV> where TV : struct
    {
        TV a = W.Abs(x);
        TV tail = VectorMath.NormalTail<W, TV>(a);
        // −a·tail rather than x·tail: NormalTail clamps a, and −14·0 is −0 where x = −∞ would give NaN.
        TV negative = W.Multiply(W.Subtract(W.Create(0f), W.Select(W.GreaterThan(a, W.Create(14f)), W.Create(14f), a)), tail);
        TV positive = W.Multiply(x, W.Subtract(W.Create(1f), tail));
        return W.Select(W.LessThan(x, W.Create(0f)), negative, positive);
    }
}

/// <summary>
/// ½·x·(1 + tanh u) = x·σ(2u), u = √(2/π)·(x + 0.044715·x³), evaluated as x·s/(1 + e) with
/// e = e^−2|u| (never overflows) and s = 1 for u ≥ 0, e for u &lt; 0.
/// </summary>
internal readonly struct GeluTanhOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<W, TV>(TV x) where W : IVectorWidth<TV> where TV : struct
    {
        // Below −20 the result is 0 in float; the clamp turns −∞·0 into −20·0.
        x = W.Select(W.LessThan(x, W.Create(-20f)), W.Create(-20f), x);
        TV u = W.Multiply(x, W.MultiplyAdd(W.Multiply(x, x), W.Create(0.035677408136300125f), W.Create(0.7978845608028654f)));
        TV e = VectorMath.Exp<W, TV>(W.Multiply(W.Abs(u), W.Create(-2f)));
        TV s = W.Select(W.LessThan(u, W.Create(0f)), e, W.Create(1f));
        return W.Divide(W.Multiply(x, s), W.Add(W.Create(1f), e));
    }
}
