using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeEE.Kernels;

/// <summary>Numerically stable softmax (the row maximum is subtracted before exp).</summary>
public static partial class Softmax
{
    /// <summary>
    /// x[rows, cols] → y[rows, cols], each row sums to 1; in place allowed. Relative error per element
    /// ≲ 1e-6 + 1e-7·|x − max| for rows up to 3072 wide (the second term is x − max rounded to float, as in
    /// any float softmax). A row whose maximum is +∞, or whose entries are all −∞, gives NaN (as PyTorch
    /// does); −∞ entries elsewhere give exactly 0.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int cols, Span<float> y) => Forward(x, rows, cols, y, Isa.Active);

    internal static void Forward(ReadOnlySpan<float> x, int rows, int cols, Span<float> y, IsaPath path)
    {
        CheckShape(x.Length, rows, cols, y.Length);
        switch (path)
        {
            case IsaPath.Vector512: Forward<Vector512Width, Vector512<float>>(x, rows, cols, y); break;
            case IsaPath.Vector256: Forward<Vector256Width, Vector256<float>>(x, rows, cols, y); break;
            case IsaPath.Vector128: Forward<Vector128Width, Vector128<float>>(x, rows, cols, y); break;
            default: Forward<ScalarWidth, float>(x, rows, cols, y); break;
        }
    }

    /// <summary>Scalar oracle (double accumulation): x[rows, cols] → y[rows, cols].</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, int rows, int cols, Span<float> y)
    {
        CheckShape(x.Length, rows, cols, y.Length);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var yr = y.Slice(r * cols, cols);
            float max = float.NegativeInfinity;
            for (int i = 0; i < cols; i++) max = MathF.Max(max, xr[i]);
            double sum = 0;
            for (int i = 0; i < cols; i++) { double e = Math.Exp((double)xr[i] - max); yr[i] = (float)e; sum += e; }
            double inv = 1.0 / sum;
            for (int i = 0; i < cols; i++) yr[i] = (float)(yr[i] * inv);
        }
    }

    static void CheckShape(int xLength, int rows, int cols, int yLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        long need = (long)rows * cols;
        if (xLength < need) throw new ArgumentException($"x has {xLength} elements but rows·cols = {rows}·{cols} = {need}.", "x");
        if (yLength < need) throw new ArgumentException($"y has {yLength} elements but rows·cols = {rows}·{cols} = {need}.", "y");
    }

    [SkipLocalsInit]
    static void Forward<W, TV>(ReadOnlySpan<float> x, int rows, int cols, Span<float> y) where W : IVectorWidth<TV> where TV : struct
    {
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref xs, r * cols);
            ref float yr = ref Unsafe.Add(ref ys, r * cols);
            float max = RowKernels.Max<W, TV>(ref xr, cols);
            float sum = RowKernels.ExpSum<W, TV>(ref xr, ref yr, cols, max);
            RowKernels.Scale<W, TV>(ref yr, cols, 1f / sum);
        }
    }
}

/// <summary>
/// Row reductions and scalings shared by softmax, LayerNorm and attention. The vector paths keep
/// 4 vector accumulators (hiding add latency and splitting a row into 16–64 partial sums); the scalar
/// path accumulates in double instead, since 4 float partial sums of a 3072-wide row would drift by ~1e-6.
/// </summary>
internal static class RowKernels
{
    /// <summary>max over x[n] (n ≥ 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max<W, TV>(ref float x, int n) where W : IVectorWidth<TV> where TV : struct
    {
        int w = W.Count, i = 0;
        float max = float.NegativeInfinity;
        if (n >= 4 * w)
        {
            TV m0 = W.Load(in x), m1 = W.Load(in Unsafe.Add(ref x, w)), m2 = W.Load(in Unsafe.Add(ref x, 2 * w)), m3 = W.Load(in Unsafe.Add(ref x, 3 * w));
            for (i = 4 * w; i <= n - 4 * w; i += 4 * w)
            {
                m0 = W.MaxNative(m0, W.Load(in Unsafe.Add(ref x, i)));
                m1 = W.MaxNative(m1, W.Load(in Unsafe.Add(ref x, i + w)));
                m2 = W.MaxNative(m2, W.Load(in Unsafe.Add(ref x, i + 2 * w)));
                m3 = W.MaxNative(m3, W.Load(in Unsafe.Add(ref x, i + 3 * w)));
            }
            for (; i <= n - w; i += w) m0 = W.MaxNative(m0, W.Load(in Unsafe.Add(ref x, i)));
            max = W.MaxAcross(W.MaxNative(W.MaxNative(m0, m1), W.MaxNative(m2, m3)));
        }
        for (; i < n; i++) max = MathF.Max(max, Unsafe.Add(ref x, i));
        return max;
    }

    /// <summary>y[i] = e^(x[i] − max) for x[n] → y[n]; returns Σ y. x and y may be the same.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ExpSum<W, TV>(ref float x, ref float y, int n, float max) where W : IVectorWidth<TV> where TV : struct
    {
        if (typeof(TV) == typeof(float))
        {
            double total = 0;
            for (int j = 0; j < n; j++)
            {
                float e = VectorMath.Exp<ScalarWidth, float>(Unsafe.Add(ref x, j) - max);
                Unsafe.Add(ref y, j) = e;
                total += e;
            }
            return (float)total;
        }
        int w = W.Count, i = 0;
        TV vmax = W.Create(max);
        TV s0 = W.Create(0f), s1 = s0, s2 = s0, s3 = s0;
        for (; i <= n - 4 * w; i += 4 * w)
        {
            TV e0 = VectorMath.Exp<W, TV>(W.Subtract(W.Load(in Unsafe.Add(ref x, i)), vmax));
            TV e1 = VectorMath.Exp<W, TV>(W.Subtract(W.Load(in Unsafe.Add(ref x, i + w)), vmax));
            TV e2 = VectorMath.Exp<W, TV>(W.Subtract(W.Load(in Unsafe.Add(ref x, i + 2 * w)), vmax));
            TV e3 = VectorMath.Exp<W, TV>(W.Subtract(W.Load(in Unsafe.Add(ref x, i + 3 * w)), vmax));
            W.Store(e0, ref Unsafe.Add(ref y, i));
            W.Store(e1, ref Unsafe.Add(ref y, i + w));
            W.Store(e2, ref Unsafe.Add(ref y, i + 2 * w));
            W.Store(e3, ref Unsafe.Add(ref y, i + 3 * w));
            s0 = W.Add(s0, e0); s1 = W.Add(s1, e1); s2 = W.Add(s2, e2); s3 = W.Add(s3, e3);
        }
        for (; i <= n - w; i += w)
        {
            TV e = VectorMath.Exp<W, TV>(W.Subtract(W.Load(in Unsafe.Add(ref x, i)), vmax));
            W.Store(e, ref Unsafe.Add(ref y, i));
            s0 = W.Add(s0, e);
        }
        float sum = W.Sum(W.Add(W.Add(s0, s1), W.Add(s2, s3)));
        for (; i < n; i++)
        {
            float e = VectorMath.Exp<ScalarWidth, float>(Unsafe.Add(ref x, i) - max);
            Unsafe.Add(ref y, i) = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>y[n] *= s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale<W, TV>(ref float y, int n, float s) where W : IVectorWidth<TV> where TV : struct
    {
        int w = W.Count, i = 0;
        TV vs = W.Create(s);
        for (; i <= n - w; i += w) W.Store(W.Multiply(W.Load(in Unsafe.Add(ref y, i)), vs), ref Unsafe.Add(ref y, i));
        for (; i < n; i++) Unsafe.Add(ref y, i) *= s;
    }

    /// <summary>Σ x[n].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum<W, TV>(ref float x, int n) where W : IVectorWidth<TV> where TV : struct
    {
        if (typeof(TV) == typeof(float))
        {
            double total = 0;
            for (int j = 0; j < n; j++) total += Unsafe.Add(ref x, j);
            return (float)total;
        }
        int w = W.Count, i = 0;
        TV s0 = W.Create(0f), s1 = s0, s2 = s0, s3 = s0;
        for (; i <= n - 4 * w; i += 4 * w)
        {
            s0 = W.Add(s0, W.Load(in Unsafe.Add(ref x, i)));
            s1 = W.Add(s1, W.Load(in Unsafe.Add(ref x, i + w)));
            s2 = W.Add(s2, W.Load(in Unsafe.Add(ref x, i + 2 * w)));
            s3 = W.Add(s3, W.Load(in Unsafe.Add(ref x, i + 3 * w)));
        }
        for (; i <= n - w; i += w) s0 = W.Add(s0, W.Load(in Unsafe.Add(ref x, i)));
        float sum = W.Sum(W.Add(W.Add(s0, s1), W.Add(s2, s3)));
        for (; i < n; i++) sum += Unsafe.Add(ref x, i);
        return sum;
    }

    /// <summary>Σ (x[i] − c)² over x[n].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumSquaredDeviation<W, TV>(ref float x, int n, float c) where W : IVectorWidth<TV> where TV : struct
    {
        if (typeof(TV) == typeof(float))
        {
            double total = 0;
            for (int j = 0; j < n; j++) { double d = Unsafe.Add(ref x, j) - c; total += d * d; }
            return (float)total;
        }
        int w = W.Count, i = 0;
        TV vc = W.Create(c);
        TV s0 = W.Create(0f), s1 = s0, s2 = s0, s3 = s0;
        for (; i <= n - 4 * w; i += 4 * w)
        {
            TV d0 = W.Subtract(W.Load(in Unsafe.Add(ref x, i)), vc);
            TV d1 = W.Subtract(W.Load(in Unsafe.Add(ref x, i + w)), vc);
            TV d2 = W.Subtract(W.Load(in Unsafe.Add(ref x, i + 2 * w)), vc);
            TV d3 = W.Subtract(W.Load(in Unsafe.Add(ref x, i + 3 * w)), vc);
            s0 = W.MultiplyAdd(d0, d0, s0); s1 = W.MultiplyAdd(d1, d1, s1);
            s2 = W.MultiplyAdd(d2, d2, s2); s3 = W.MultiplyAdd(d3, d3, s3);
        }
        for (; i <= n - w; i += w)
        {
            TV d = W.Subtract(W.Load(in Unsafe.Add(ref x, i)), vc);
            s0 = W.MultiplyAdd(d, d, s0);
        }
        float sum = W.Sum(W.Add(W.Add(s0, s1), W.Add(s2, s3)));
        for (; i < n; i++) { float d = Unsafe.Add(ref x, i) - c; sum += d * d; }
        return sum;
    }
}
