using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeEE.Kernels;

/// <summary>An element-wise function y = f(x), written once for every <see cref="IVectorWidth{TV}"/>.</summary>
internal interface IUnaryOperator
{
    static abstract TV Invoke<W, TV>(TV x) where W : IVectorWidth<TV> where TV : struct;
}

/// <summary>An element-wise function y = f(a, b), written once for every <see cref="IVectorWidth{TV}"/>.</summary>
internal interface IBinaryOperator
{
    static abstract TV Invoke<W, TV>(TV a, TV b) where W : IVectorWidth<TV> where TV : struct;
}

/// <summary>
/// The drivers that own unrolling and tails for element-wise operators: a vector loop, then the scalar
/// form of the same operator for the last &lt; Count elements. Unary operators (GELU, tanh: 40–70
/// instructions per vector) run one vector per iteration: out-of-order execution already overlaps
/// consecutive iterations, and a 4× unroll made the JIT spill the hoisted polynomial constants.
/// Binary operators (one instruction) are unrolled 4×. Each block is loaded before it is stored, so y
/// may be the same span as an input (fully in place); other overlaps are not supported.
/// </summary>
internal static class Elementwise
{
    /// <summary>x[n] → y[n] = TOp(x) on the given path.</summary>
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y, IsaPath path) where TOp : IUnaryOperator
    {
        if (y.Length < x.Length)
            throw new ArgumentException($"Output has {y.Length} elements but the input has {x.Length}; y must be at least as long as x.", nameof(y));
        switch (path)
        {
            case IsaPath.Vector512: Unary<TOp, Vector512Width, Vector512<float>>(x, y); break;
            case IsaPath.Vector256: Unary<TOp, Vector256Width, Vector256<float>>(x, y); break;
            case IsaPath.Vector128: Unary<TOp, Vector128Width, Vector128<float>>(x, y); break;
            default: Unary<TOp, ScalarWidth, float>(x, y); break;
        }
    }

    /// <summary>a[n], b[n] → y[n] = TOp(a, b) on the given path.</summary>
    public static void Binary<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, IsaPath path) where TOp : IBinaryOperator
    {
        if (b.Length != a.Length)
            throw new ArgumentException($"Inputs differ in length ({a.Length} vs {b.Length}); an element-wise operation needs equal lengths.", nameof(b));
        if (y.Length < a.Length)
            throw new ArgumentException($"Output has {y.Length} elements but the inputs have {a.Length}; y must be at least as long.", nameof(y));
        switch (path)
        {
            case IsaPath.Vector512: Binary<TOp, Vector512Width, Vector512<float>>(a, b, y); break;
            case IsaPath.Vector256: Binary<TOp, Vector256Width, Vector256<float>>(a, b, y); break;
            case IsaPath.Vector128: Binary<TOp, Vector128Width, Vector128<float>>(a, b, y); break;
            default: Binary<TOp, ScalarWidth, float>(a, b, y); break;
        }
    }

    [SkipLocalsInit]
    static void Unary<TOp, W, TV>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : IUnaryOperator where W : IVectorWidth<TV> where TV : struct
    {
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int n = x.Length, w = W.Count, i = 0;
        for (; i <= n - w; i += w)
            W.Store(TOp.Invoke<W, TV>(W.Load(in Unsafe.Add(ref xs, i))), ref Unsafe.Add(ref ys, i));
        for (; i < n; i++)
            Unsafe.Add(ref ys, i) = TOp.Invoke<ScalarWidth, float>(Unsafe.Add(ref xs, i));
    }

    [SkipLocalsInit]
    static void Binary<TOp, W, TV>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        where TOp : IBinaryOperator where W : IVectorWidth<TV> where TV : struct
    {
        ref float as_ = ref MemoryMarshal.GetReference(a);
        ref float bs = ref MemoryMarshal.GetReference(b);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int n = a.Length, w = W.Count, i = 0;
        for (; i <= n - 4 * w; i += 4 * w)
        {
            TV v0 = TOp.Invoke<W, TV>(W.Load(in Unsafe.Add(ref as_, i)), W.Load(in Unsafe.Add(ref bs, i)));
            TV v1 = TOp.Invoke<W, TV>(W.Load(in Unsafe.Add(ref as_, i + w)), W.Load(in Unsafe.Add(ref bs, i + w)));
            TV v2 = TOp.Invoke<W, TV>(W.Load(in Unsafe.Add(ref as_, i + 2 * w)), W.Load(in Unsafe.Add(ref bs, i + 2 * w)));
            TV v3 = TOp.Invoke<W, TV>(W.Load(in Unsafe.Add(ref as_, i + 3 * w)), W.Load(in Unsafe.Add(ref bs, i + 3 * w)));
            W.Store(v0, ref Unsafe.Add(ref ys, i));
            W.Store(v1, ref Unsafe.Add(ref ys, i + w));
            W.Store(v2, ref Unsafe.Add(ref ys, i + 2 * w));
            W.Store(v3, ref Unsafe.Add(ref ys, i + 3 * w));
        }
        for (; i <= n - w; i += w)
            W.Store(TOp.Invoke<W, TV>(W.Load(in Unsafe.Add(ref as_, i)), W.Load(in Unsafe.Add(ref bs, i))), ref Unsafe.Add(ref ys, i));
        for (; i < n; i++)
            Unsafe.Add(ref ys, i) = TOp.Invoke<ScalarWidth, float>(Unsafe.Add(ref as_, i), Unsafe.Add(ref bs, i));
    }
}
