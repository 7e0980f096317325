using System.Runtime.CompilerServices;

namespace NativeEE.Kernels;

public static partial class Activations
{
    /// <summary>x[n] → y[n] = tanh(x); in place allowed. Relative error ≲ 2 ulp; ±1 from |x| ≈ 9 on.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Tanh(x, y, Isa.Active);

    internal static void Tanh(ReadOnlySpan<float> x, Span<float> y, IsaPath path) => Elementwise.Unary<TanhOperator>(x, y, path);
}

internal readonly struct TanhOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<W, TV>(TV x) where W : IVectorWidth<TV> where TV : struct => VectorMath.Tanh<W, TV>(x);
}
