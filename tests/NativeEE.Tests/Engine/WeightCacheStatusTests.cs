using NativeEE.Model;
using NativeEE.Tests.Model;

namespace NativeEE.Tests.Engine;

/// <summary>
/// The packed-weight cache end to end: every <see cref="WeightCacheStatus"/> a load can report, and in each case the
/// same numbers as packing in memory, bit for bit. Every cache lives in a temporary folder of the test's own.
/// </summary>
public sealed class WeightCacheStatusTests : IDisposable
{
    readonly string _cache = Directory.CreateTempSubdirectory("nativeee-cache-test-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The real model: no cache, then the load that writes it, then the load that maps it — identical outputs.</summary>
    [Fact]
    public void MiniLmGivesBitIdenticalResultsPackedMappedAndWritten()
    {
        var reference = ReferenceData.Instance;
        var offsets = new int[reference.Count + 1];
        var flat = new List<int>();
        for (int i = 0; i < reference.Count; i++) { flat.AddRange(reference.Ids[i]); offsets[i + 1] = flat.Count; }
        int[] ids = [.. flat];

        (float[] Exits, float[] Cls, float[] Logits) Run(string? cacheDirectory, WeightCacheStatus expected)
        {
            using var model = EarlyExitModel.Load(SharedPaths.MiniLm, new ModelOptions { Threads = 2, WeightCacheDirectory = cacheDirectory });
            Assert.Equal(expected, model.WeightCache);
            var exits = new float[reference.Count * model.ExitLayers.Count * model.Config.NumLabels];
            var cls = new float[reference.Count * model.NumLayers * model.Config.HiddenSize];
            var logits = new float[reference.Count * model.Config.NumLabels];
            model.ComputeExitLogits(ids, offsets, exits);
            model.ComputeLayerStates(ids, offsets, cls, logits);
            return (exits, cls, logits);
        }

        var packed = Run(null, WeightCacheStatus.Disabled);
        var written = Run(_cache, WeightCacheStatus.Created);
        var mapped = Run(_cache, WeightCacheStatus.Mapped);
        Assert.Equal(packed.Exits, written.Exits);
        Assert.Equal(packed.Exits, mapped.Exits);
        Assert.Equal(packed.Cls, mapped.Cls);
        Assert.Equal(packed.Logits, mapped.Logits);
        // And the numbers are the model's: the final logits match PyTorch (the parity tests' tolerance).
        for (int i = 0; i < reference.Count * ReferenceData.Labels; i++)
            Assert.True(Math.Abs(mapped.Logits[i] - reference.LayerLogits[ReferenceData.Layers - 1][i]) < 1e-4f, $"logit {i}");
        Assert.Single(Directory.GetFiles(_cache));
    }

    /// <summary>
    /// Mapped weights are faulted in on a background thread when asked (off by default); either way the numbers are the same.
    /// Disposing the model while that thread runs must not unmap under it (that would crash the test process).
    /// </summary>
    [Fact]
    public void MappedWeightsArePrefaultedInTheBackgroundAndDisposeWaitsForIt()
    {
        using var bert = new SyntheticBert();
        float[] Logits(ModelOptions options, WeightCacheStatus status, bool prefault)
        {
            using var model = EarlyExitModel.Load(bert.Directory, options);
            Assert.Equal(status, model.WeightCache);
            Assert.Equal(prefault, model.PrefaultStarted);
            var p = model.Classify("a gripping, funny film", ExitPolicy.FullDepth, Ct);
            return p.Probabilities.ToArray();
        }
        var written = Logits(new ModelOptions { Threads = 1, WeightCacheDirectory = _cache }, WeightCacheStatus.Created, prefault: false);
        var prefaulted = Logits(new ModelOptions { Threads = 1, WeightCacheDirectory = _cache, PrefaultWeights = true }, WeightCacheStatus.Mapped, prefault: true);
        var lazy = Logits(new ModelOptions { Threads = 1, WeightCacheDirectory = _cache }, WeightCacheStatus.Mapped, prefault: false);
        var inMemory = Logits(new ModelOptions { Threads = 1, PrefaultWeights = true }, WeightCacheStatus.Disabled, prefault: false);
        Assert.Equal(written, prefaulted);
        Assert.Equal(written, lazy);
        Assert.Equal(written, inMemory);

        // Load and dispose at once, over and over: the prefault thread holds a lease, so the unmapping waits for it.
        for (int i = 0; i < 50; i++)
            EarlyExitModel.Load(SharedPaths.MiniLm, new ModelOptions { Threads = 1, WeightCacheDirectory = _cache, PrefaultWeights = true }).Dispose();
    }

    [Fact]
    public void WithoutACacheDirectoryNothingIsWritten()
    {
        using var bert = new SyntheticBert();
        using var model = EarlyExitModel.Load(bert.Directory, new ModelOptions { Threads = 1 });
        Assert.Equal(WeightCacheStatus.Disabled, model.WeightCache);
        Assert.Null(model.WeightCachePath);
        Assert.Empty(Directory.GetFileSystemEntries(_cache));
    }

    /// <summary>Rewriting the model file (other weights, same shapes) makes the cache stale: it is rebuilt from the new weights.</summary>
    [Fact]
    public void AStaleCacheIsRebuiltFromTheChangedModel()
    {
        using var bert = new SyntheticBert();
        var options = new ModelOptions { Threads = 1, WeightCacheDirectory = _cache };
        var before = Logits(bert.Directory, options, WeightCacheStatus.Created);
        string cacheFile = Assert.Single(Directory.GetFiles(_cache));

        var rng = new Random(11);
        var changed = new float[SyntheticBert.Intermediate * SyntheticBert.Hidden];
        for (int i = 0; i < changed.Length; i++) changed[i] = (float)(rng.NextDouble() - 0.5);
        bert.WriteFolder(replace: new Dictionary<string, (float[], int[])>
        {
            ["bert.encoder.layer.1.intermediate.dense.weight"] = (changed, [SyntheticBert.Intermediate, SyntheticBert.Hidden]),
        });

        var after = Logits(bert.Directory, options, WeightCacheStatus.Replaced);
        Assert.NotEqual(before, after);
        Assert.Equal(Logits(bert.Directory, new ModelOptions { Threads = 1 }, WeightCacheStatus.Disabled), after);
        Assert.Equal(cacheFile, Assert.Single(Directory.GetFiles(_cache)));
        Assert.Equal(after, Logits(bert.Directory, options, WeightCacheStatus.Mapped));
    }

    /// <summary>Removing exits.safetensors changes the sources, so the cache (which held the exit heads too) is rebuilt.</summary>
    [Fact]
    public void AddingOrRemovingTheExitsFileRebuildsTheCache()
    {
        using var bert = new SyntheticBert();
        var options = new ModelOptions { Threads = 1, WeightCacheDirectory = _cache };
        Logits(bert.Directory, options, WeightCacheStatus.Created);
        bert.WriteFolder(exits: false);
        Logits(bert.Directory, options, WeightCacheStatus.Replaced);
        Logits(bert.Directory, options, WeightCacheStatus.Mapped);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("empty")]
    [InlineData("header byte")]
    [InlineData("garbage")]
    public void ABrokenCacheFileIsReplacedAndTheResultsStayTheSame(string damage)
    {
        using var bert = new SyntheticBert();
        var options = new ModelOptions { Threads = 1, WeightCacheDirectory = _cache };
        var expected = Logits(bert.Directory, options, WeightCacheStatus.Created);
        string cacheFile = Assert.Single(Directory.GetFiles(_cache));
        byte[] bytes = File.ReadAllBytes(cacheFile);
        byte[] broken = damage switch
        {
            "truncated" => bytes[..(bytes.Length - 100)],
            "empty" => [],
            "header byte" => Flip(bytes, 60),
            _ => [.. Enumerable.Range(0, bytes.Length).Select(i => (byte)(i * 7))],
        };
        File.WriteAllBytes(cacheFile, broken);

        Assert.Equal(expected, Logits(bert.Directory, options, WeightCacheStatus.Replaced));
        Assert.Equal(bytes, File.ReadAllBytes(cacheFile));
        Assert.Equal(expected, Logits(bert.Directory, options, WeightCacheStatus.Mapped));
    }

    /// <summary>A cache folder that cannot be created (its parent is a file; permission bits do not stop root) means packing in memory.</summary>
    [Fact]
    public void AnUnwritableCacheFolderFallsBackToPackingInMemory()
    {
        using var bert = new SyntheticBert();
        string blocker = Path.Combine(_cache, "a-file");
        File.WriteAllText(blocker, "not a folder");
        var options = new ModelOptions { Threads = 1, WeightCacheDirectory = Path.Combine(blocker, "nativeee") };
        var expected = Logits(bert.Directory, new ModelOptions { Threads = 1 }, WeightCacheStatus.Disabled);
        Assert.Equal(expected, Logits(bert.Directory, options, WeightCacheStatus.Unwritable));
        Assert.Equal(expected, Logits(bert.Directory, options, WeightCacheStatus.Unwritable));
        Assert.Equal([blocker], Directory.GetFileSystemEntries(_cache));
    }

    /// <summary>Dispose unmaps the model files and the cache (Linux: /proc/self/maps lists every mapped file).</summary>
    [Fact]
    public void DisposeUnmapsTheModelFilesAndTheCache()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test reads /proc/self/maps");
        using var bert = new SyntheticBert();
        var options = new ModelOptions { Threads = 1, WeightCacheDirectory = _cache };
        Logits(bert.Directory, options, WeightCacheStatus.Created);
        var model = EarlyExitModel.Load(bert.Directory, options);
        Assert.Equal(WeightCacheStatus.Mapped, model.WeightCache);
        string[] files = [Path.Combine(bert.Directory, "model.safetensors"), Path.Combine(bert.Directory, "exits.safetensors"), model.WeightCachePath!];
        foreach (string f in files) Assert.True(IsMapped(f), $"{f} should be mapped while the model is alive");

        model.Dispose();
        foreach (string f in files) Assert.False(IsMapped(f), $"{f} is still mapped after Dispose");
        Assert.Throws<ObjectDisposedException>(() => model.Classify(SyntheticBert.RandomSequences(3, 5)[0], ExitPolicy.FullDepth, Ct));
    }

    static bool IsMapped(string path) => File.ReadAllText("/proc/self/maps").Contains(Path.GetFullPath(path), StringComparison.Ordinal);

    static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }

    /// <summary>Every head's logits for a few random sequences, after checking the load reported <paramref name="expected"/>.</summary>
    static float[] Logits(string directory, ModelOptions options, WeightCacheStatus expected)
    {
        using var model = EarlyExitModel.Load(directory, options);
        Assert.Equal(expected, model.WeightCache);
        var sequences = SyntheticBert.RandomSequences(5, 3, 9, 16);
        var offsets = new int[sequences.Length + 1];
        for (int i = 0; i < sequences.Length; i++) offsets[i + 1] = offsets[i] + sequences[i].Length;
        var logits = new float[sequences.Length * model.ExitLayers.Count * model.Config.NumLabels];
        model.ComputeExitLogits(sequences.SelectMany(s => s).ToArray(), offsets, logits);
        return logits;
    }
}
