using System.Buffers.Binary;
using NativeEE.Kernels;
using NativeEE.Model;

namespace NativeEE.Tests.Model;

/// <summary>
/// The cache file format on its own: a round trip hands back the same panels, and every kind of damage is refused with
/// a typed <see cref="PackedWeightCacheException"/> before anything is read through the header (no access violation,
/// no out-of-bounds span). Files live in a temporary folder.
/// </summary>
public sealed class PackedWeightCacheTests : IDisposable
{
    const string Key = "test key\n";
    readonly string _folder = Directory.CreateTempSubdirectory("nativeee-packed-test-").FullName;
    readonly string _path;
    readonly IsaPath _isa = Isa.Active;
    readonly (string Name, PackedMatrix Matrix)[] _matrices;

    public PackedWeightCacheTests()
    {
        _path = Path.Combine(_folder, "m.packed");
        var rng = new Random(3);
        _matrices = [("a", Pack(rng, 37, 29)), ("b+c", Pack(rng, 5, 3)), ("d", Pack(rng, 64, 17))];
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static PackedMatrix Pack(Random rng, int n, int k)
    {
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        return Gemm.Pack(w, n, k);
    }

    /// <summary>X[3,K] · W → Y[3,N] with <paramref name="w"/>, for comparing two packings of one W.</summary>
    static float[] Multiply(PackedMatrix w)
    {
        var x = new float[3 * w.K];
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i);
        var y = new float[3 * w.N];
        Gemm.Multiply(x, 3, w, default, y);
        return y;
    }

    /// <summary>The mapped matrices multiply bit-identically (Gemm.FromPanels also refuses panels off a 64-byte boundary).</summary>
    [Fact]
    public void RoundTripMapsTheSameMatrices()
    {
        PackedWeightCache.Write(_path, Key, _isa, _matrices);
        using var cache = PackedWeightCache.Open(_path, Key, _isa);
        Assert.Equal(3, cache.EntryCount);
        foreach (var (name, matrix) in _matrices)
        {
            var mapped = cache.Matrix(name, matrix.N, matrix.K);
            Assert.Equal((matrix.N, matrix.K), (mapped.N, mapped.K));
            Assert.Equal(Multiply(matrix), Multiply(mapped));
        }
        cache.CheckAllUsed();
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void AMatrixTheFileLacksOrAnUnusedEntryMeansStale()
    {
        PackedWeightCache.Write(_path, Key, _isa, _matrices);
        using var cache = PackedWeightCache.Open(_path, Key, _isa);
        Assert.Equal(PackedWeightCacheProblem.Stale, Assert.Throws<PackedWeightCacheException>(() => cache.Matrix("e", 4, 4)).Problem);
        Assert.Equal(PackedWeightCacheProblem.Stale, Assert.Throws<PackedWeightCacheException>(() => cache.Matrix("a", 37, 30)).Problem);
        cache.Matrix("a", 37, 29);
        var e = Assert.Throws<PackedWeightCacheException>(cache.CheckAllUsed);
        Assert.Equal(PackedWeightCacheProblem.Stale, e.Problem);
        Assert.Contains(_path, e.Message);
    }

    [Fact]
    public void MissingStaleAndIncompatibleFilesAreTyped()
    {
        Assert.Equal(PackedWeightCacheProblem.Missing, Assert.Throws<PackedWeightCacheException>(() => PackedWeightCache.Open(_path, Key, _isa)).Problem);
        PackedWeightCache.Write(_path, Key, _isa, _matrices);
        Assert.Equal(PackedWeightCacheProblem.Stale, Assert.Throws<PackedWeightCacheException>(() => PackedWeightCache.Open(_path, "another key\n", _isa)).Problem);
        var other = _isa == IsaPath.Scalar ? IsaPath.Vector128 : IsaPath.Scalar;
        var e = Assert.Throws<PackedWeightCacheException>(() => PackedWeightCache.Open(_path, Key, other));
        Assert.Equal(PackedWeightCacheProblem.Incompatible, e.Problem);
        Assert.Contains("NR", e.Message);
    }

    /// <summary>Every possible length short of the full file: truncated, and refused.</summary>
    [Fact]
    public void EveryTruncationIsDetected()
    {
        PackedWeightCache.Write(_path, Key, _isa, _matrices);
        byte[] bytes = File.ReadAllBytes(_path);
        string cut = Path.Combine(_folder, "cut.packed");
        for (int length = 0; length < bytes.Length; length += length < 512 ? 1 : 997)
        {
            File.WriteAllBytes(cut, bytes[..length]);
            var e = Assert.Throws<PackedWeightCacheException>(() => PackedWeightCache.Open(cut, Key, _isa));
            Assert.True(e.Problem == PackedWeightCacheProblem.Truncated, $"length {length}: {e.Message}");
        }
    }

    /// <summary>Each header byte flipped in turn (the checksum covers all of them): refused, never opened.</summary>
    [Fact]
    public void EveryFlippedHeaderByteIsDetected()
    {
        PackedWeightCache.Write(_path, Key, _isa, _matrices);
        byte[] bytes = File.ReadAllBytes(_path);
        int headerEnd = HeaderEnd(bytes);
        string bad = Path.Combine(_folder, "bad.packed");
        for (int at = 0; at < headerEnd; at++)
        {
            var copy = (byte[])bytes.Clone();
            copy[at] ^= 0x41;
            File.WriteAllBytes(bad, copy);
            var e = Assert.Throws<PackedWeightCacheException>(() => PackedWeightCache.Open(bad, Key, _isa));
            Assert.NotEqual(PackedWeightCacheProblem.Missing, e.Problem);
        }
    }

    /// <summary>Headers with a valid checksum but entries that break a rule: the bounds checks, not the checksum, refuse them.</summary>
    [Theory]
    [InlineData("offset past the end")]
    [InlineData("unaligned offset")]
    [InlineData("overlapping")]
    [InlineData("wrong length")]
    [InlineData("zero rows")]
    [InlineData("duplicate name")]
    [InlineData("data offset unaligned")]
    [InlineData("longer file")]
    [InlineData("huge entry count")]
    public void ConsistentButInvalidHeadersAreCorrupt(string breakage)
    {
        PackedWeightCache.Write(_path, Key, _isa, _matrices);
        byte[] bytes = File.ReadAllBytes(_path);
        var entries = EntryPositions(bytes);
        int headerEnd = HeaderEnd(bytes);
        int a = entries[0].Fields, b = entries[1].Fields;
        var span = bytes.AsSpan();
        ulong Get(int at) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
        void Set(int at, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
        switch (breakage)
        {
            case "offset past the end": Set(b + 8, (ulong)bytes.Length / 64 * 64 + 64); break;
            case "unaligned offset": Set(b + 8, Get(b + 8) + 4); break;
            case "overlapping": Set(b + 8, Get(a + 8) + 64); break;
            case "wrong length": Set(a + 16, Get(a + 16) - 1); break;
            case "zero rows": BinaryPrimitives.WriteUInt32LittleEndian(span[a..], 0); break;
            case "duplicate name": bytes[entries[2].Name] = (byte)'a'; break; // "d" → "a": valid, but repeated
            case "data offset unaligned": Set(40, Get(40) + 8); break;
            case "longer file": bytes = [.. bytes, 0, 0, 0, 0]; break;
            case "huge entry count": BinaryPrimitives.WriteUInt32LittleEndian(span[24..], uint.MaxValue); break;
        }
        // Recompute the checksum so only the rule under test is broken.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(headerEnd - 8), PackedWeightCache.Fnv1a(bytes.AsSpan(0, headerEnd - 8)));
        File.WriteAllBytes(_path, bytes);
        var e = Assert.Throws<PackedWeightCacheException>(() => PackedWeightCache.Open(_path, Key, _isa));
        Assert.True(e.Problem == PackedWeightCacheProblem.Corrupt, $"{breakage}: {e.Problem}: {e.Message}");
    }

    [Fact]
    public void AnUnwritableDestinationThrowsAndLeavesNoTemporaryFile()
    {
        string blocker = Path.Combine(_folder, "file");
        File.WriteAllText(blocker, "x");
        Assert.ThrowsAny<IOException>(() => PackedWeightCache.Write(Path.Combine(blocker, "sub", "m.packed"), Key, _isa, _matrices));
        // A destination that is a folder: the temporary file is written, the rename fails, the temporary file is removed.
        string folderInTheWay = Path.Combine(_folder, "taken.packed");
        Directory.CreateDirectory(folderInTheWay);
        Assert.ThrowsAny<IOException>(() => PackedWeightCache.Write(folderInTheWay, Key, _isa, _matrices));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void CacheFilesAreNamedByModelFolderAndIsaPath()
    {
        string a = PackedWeightCache.PathFor(_folder, "/models/my model", IsaPath.Vector256);
        string b = PackedWeightCache.PathFor(_folder, "/other/my model", IsaPath.Vector256);
        Assert.Equal(_folder, Path.GetDirectoryName(a));
        Assert.StartsWith("my_model-", Path.GetFileName(a));
        Assert.EndsWith(".vector256.packed", a);
        Assert.NotEqual(a, b);
        Assert.Equal(a, PackedWeightCache.PathFor(_folder, "/models/my model/", IsaPath.Vector256));
        Assert.NotEqual(a, PackedWeightCache.PathFor(_folder, "/models/my model", IsaPath.Vector512));
    }

    /// <summary>One past the header checksum: prefix 48 + key + entries + 8.</summary>
    static int HeaderEnd(byte[] bytes)
    {
        var entries = EntryPositions(bytes);
        return entries[^1].Fields + 24 + 8;
    }

    /// <summary>(position of the name, position of the N/K/offset/length fields) of each entry.</summary>
    static List<(int Name, int Fields)> EntryPositions(byte[] bytes)
    {
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24));
        int pos = 48 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28));
        var list = new List<(int, int)>();
        for (int i = 0; i < count; i++)
        {
            int nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos));
            list.Add((pos + 4, pos + 4 + nameLength));
            pos += 4 + nameLength + 24;
        }
        return list;
    }
}
