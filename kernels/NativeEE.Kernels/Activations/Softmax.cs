namespace NativeEE.Kernels;

/// <summary>Numerically stable softmax (max subtracted).</summary>
public static partial class Softmax
{
    /// <summary>x[rows, cols] → y[rows, cols], each row sums to 1; in place allowed.</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int cols, Span<float> y)
        => ForwardReference(x, rows, cols, y);

    /// <summary>Scalar oracle (double accumulation).</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, int rows, int cols, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var yr = y.Slice(r * cols, cols);
            float max = float.NegativeInfinity;
            for (int i = 0; i < cols; i++) max = MathF.Max(max, xr[i]);
            double sum = 0;
            for (int i = 0; i < cols; i++) { double e = Math.Exp(xr[i] - max); yr[i] = (float)e; sum += e; }
            float inv = (float)(1.0 / sum);
            for (int i = 0; i < cols; i++) yr[i] *= inv;
        }
    }
}
