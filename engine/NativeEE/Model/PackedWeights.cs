using NativeEE.Kernels;

namespace NativeEE.Model;

/// <summary>
/// Where a load gets its packed GEMM weights: mapped from a valid cache file, or packed now in process memory
/// (and remembered by name, so the loader can write them to a new cache file afterwards).
/// </summary>
internal sealed class PackedWeights(PackedWeightCache? cache)
{
    readonly List<(string Name, PackedMatrix Matrix)> _packed = [];

    /// <summary>The mapped cache, or null when weights are packed now.</summary>
    public PackedWeightCache? Cache { get; } = cache;

    /// <summary>Matrices packed by this load, in the order they were asked for.</summary>
    public IReadOnlyList<(string Name, PackedMatrix Matrix)> Packed => _packed;

    /// <summary>
    /// Matrix <paramref name="name"/> W[N,K]: from the cache, else <paramref name="pack"/>() run now (W is then
    /// read from the model file: the cache's whole point is to skip that).
    /// </summary>
    /// <exception cref="PackedWeightCacheException">The cache lacks this matrix (it is stale).</exception>
    public PackedMatrix Get(string name, int n, int k, Func<PackedMatrix> pack)
    {
        if (Cache is not null) return Cache.Matrix(name, n, k);
        var matrix = pack();
        _packed.Add((name, matrix));
        return matrix;
    }
}
