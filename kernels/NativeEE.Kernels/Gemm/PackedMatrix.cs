namespace NativeEE.Kernels;

/// <summary>
/// A weight matrix W[N,K] (nn.Linear layout) repacked once into the panel layout the active
/// microkernel reads. Immutable after packing; safe to share between threads.
/// </summary>
public sealed class PackedMatrix
{
    internal PackedMatrix(int n, int k, float[] data, int offset, IsaPath path)
    {
        N = n;
        K = k;
        Data = data;
        Offset = offset;
        Path = path;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    /// <summary>The packed panels (layout private to <see cref="Gemm"/>, see <see cref="GemmPacking"/>), on the pinned heap.</summary>
    internal float[] Data { get; }

    /// <summary>Index in <see cref="Data"/> of the first panel (64-byte aligned).</summary>
    internal int Offset { get; }

    /// <summary>The microkernel family the panels were cut for (their width NR depends on it).</summary>
    internal IsaPath Path { get; }
}
