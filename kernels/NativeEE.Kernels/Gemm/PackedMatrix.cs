namespace NativeEE.Kernels;

/// <summary>
/// A weight matrix W[N,K] (nn.Linear layout) repacked once into the panel layout the active
/// microkernel reads. Immutable after packing; safe to share between threads.
/// </summary>
/// <remarks>
/// The panels live either in a pinned array that <see cref="Gemm.Pack(ReadOnlySpan{float}, int, int)"/> allocated,
/// or in native memory (a mapped cache file) that an owner object keeps valid; <see cref="Gemm"/> reads both the same way.
/// </remarks>
public sealed unsafe class PackedMatrix
{
    readonly object _owner;

    internal PackedMatrix(int n, int k, IsaPath path, float* panels, long length, object owner)
    {
        N = n;
        K = k;
        Path = path;
        Panels = panels;
        Length = length;
        _owner = owner;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    /// <summary>
    /// The first panel (64-byte aligned; layout private to <see cref="Gemm"/>, see <see cref="GemmPacking"/>). Valid while
    /// this object is reachable: it references the owner of the memory (the pinned array, or the mapping).
    /// </summary>
    internal float* Panels { get; }

    /// <summary>Floats in the panels: ⌈N/NR⌉·K·NR.</summary>
    internal long Length { get; }

    /// <summary>The microkernel family the panels were cut for (their width NR depends on it).</summary>
    internal IsaPath Path { get; }

    /// <summary>What keeps <see cref="Panels"/> valid: a pinned float[], or the caller's mapping.</summary>
    internal object Owner => _owner;
}
