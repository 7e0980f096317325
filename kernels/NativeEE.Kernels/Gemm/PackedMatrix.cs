namespace NativeEE.Kernels;

/// <summary>
/// A weight matrix W[N,K] (nn.Linear layout) repacked once into the panel layout the active
/// microkernel reads. Immutable after packing; safe to share between threads.
/// </summary>
public sealed class PackedMatrix
{
    internal PackedMatrix(int n, int k, float[] data)
    {
        N = n;
        K = k;
        Data = data;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    /// <summary>The packed panels (layout private to <see cref="Gemm"/>).</summary>
    internal float[] Data { get; }
}
