using System.Runtime.CompilerServices;

namespace NativeEE.Kernels;

public static partial class Activations
{
    /// <summary>a[n] + b[n] → y[n]; in place allowed (y may be a or b).</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => Add(a, b, y, Isa.Active);

    internal static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, IsaPath path) => Elementwise.Binary<AddOperator>(a, b, y, path);
}

internal readonly struct AddOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<W, TV>(TV a, TV b) where W : IVectorWidth<TV> where TV : struct => W.Add(a, b);
}
