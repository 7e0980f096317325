using System.Runtime.CompilerServices;

namespace NativeEE.Kernels;

public static partial class Activations
{
    /// <summary>x[n] → y[n] = eˣ for x ≤ 88: the exp inside softmax and attention, exposed for accuracy tests.</summary>
    internal static void Exp(ReadOnlySpan<float> x, Span<float> y, IsaPath path) => Elementwise.Unary<ExpOperator>(x, y, path);
}

internal readonly struct ExpOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<W, TV>(TV x) where W : IVectorWidth<TV> where TV : struct => VectorMath.Exp<W, TV>(x);
}
