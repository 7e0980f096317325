namespace NativeEE.Kernels;

/// <summary>Layer normalisation over the last dimension.</summary>
public static partial class LayerNorm
{
    /// <summary>x[rows, cols] → y[rows, cols] = (x − mean) / sqrt(var + eps) · gamma[cols] + beta[cols]; in place allowed.</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> y)
        => ForwardReference(x, rows, cols, gamma, beta, eps, y);

    /// <summary>Scalar oracle (double accumulation, two-pass variance).</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var yr = y.Slice(r * cols, cols);
            double mean = 0;
            for (int i = 0; i < cols; i++) mean += xr[i];
            mean /= cols;
            double var = 0;
            for (int i = 0; i < cols; i++) { double d = xr[i] - mean; var += d * d; }
            var /= cols;
            double inv = 1.0 / Math.Sqrt(var + eps);
            for (int i = 0; i < cols; i++) yr[i] = (float)((xr[i] - mean) * inv * gamma[i] + beta[i]);
        }
    }
}
