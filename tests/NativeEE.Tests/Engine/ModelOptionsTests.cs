using NativeEE.Tests.Model;

namespace NativeEE.Tests.Engine;

public sealed class ModelOptionsTests : IDisposable
{
    readonly SyntheticBert _bert = new();

    public void Dispose() => _bert.Dispose();

    [Fact]
    public void Defaults()
    {
        var o = new ModelOptions();
        Assert.Equal(Environment.ProcessorCount, o.Threads);
        Assert.Null(o.MaxTokens);
        Assert.Null(o.MaxBatchTokens);
        Assert.Null(o.DefaultPolicy);
        Assert.True(o.ClsOnlyLastLayer);
        Assert.Null(o.WeightCacheDirectory);
        Assert.False(o.PrefaultWeights);
        Assert.True(o.DeferLayerCompletion);
    }

    /// <summary>The XDG base-directory rule: $XDG_CACHE_HOME if it is an absolute path, else ~/.cache (read, not modified: other tests run in parallel).</summary>
    [Fact]
    public void DefaultWeightCacheDirectoryFollowsXdg()
    {
        Assert.True(OperatingSystem.IsLinux(), "the XDG rule applies on Linux");
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string expected = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? Path.Combine(xdg, "nativeee")
            : Path.Combine(Environment.GetEnvironmentVariable("HOME")!, ".cache", "nativeee");
        Assert.Equal(expected, ModelOptions.DefaultWeightCacheDirectory);
    }

    [Fact]
    public void SettingsReachTheModel()
    {
        using var model = EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 1, MaxTokens = 8, MaxBatchTokens = 40, DefaultPolicy = ExitPolicy.MaxProbability(0.5f) });
        Assert.Equal(1, model.Threads);
        Assert.Equal(8, model.MaxTokens);
        Assert.Equal(40, model.MaxBatchTokens);
        Assert.Equal("maxprob:0.5", model.DefaultPolicy.Spec);
        var p = model.Classify(SyntheticBert.RandomSequences(1, 6)[0], null, TestContext.Current.CancellationToken);
        Assert.True(p.HasValue);
    }

    [Fact]
    public void DefaultPolicyComesFromThePolicyFile()
    {
        PolicyFile.Save(_bert.Directory, ExitPolicy.Entropy(0.25f), new PolicyCalibration { DataFile = "dev.tsv", MaxAccuracyDrop = 1, DevAccuracy = 0.5, MeanLayers = 2, ExpectedSpeedup = 1.5 });
        using var model = EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 1 });
        Assert.Equal("entropy:0.25", model.DefaultPolicy.Spec);
    }

    [Fact]
    public void ClsOnlyLastLayerGivesTheSameResultsAsTheFullLastLayer()
    {
        using var fast = EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 1 });
        using var full = EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 1, ClsOnlyLastLayer = false });
        var (ids, offsets) = SyntheticBert.Pack(SyntheticBert.RandomSequences(4, 3, 16, 9, 2));
        var a = new Prediction[4];
        var b = new Prediction[4];
        fast.Classify(ids, offsets, a, ExitPolicy.FullDepth, TestContext.Current.CancellationToken);
        full.Classify(ids, offsets, b, ExitPolicy.FullDepth, TestContext.Current.CancellationToken);
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < SyntheticBert.Labels; c++)
                Assert.Equal(b[i].Logits[c], a[i].Logits[c], 1e-5f);
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(1, 1, null)]
    [InlineData(1, 17, null)]
    [InlineData(1, 16, 15)]
    public void InvalidSettingsAreRefused(int threads, int? maxTokens, int? maxBatchTokens)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = threads, MaxTokens = maxTokens, MaxBatchTokens = maxBatchTokens }));
    }

    [Fact]
    public void ExitPolicyDefaultWithoutExitHeadsIsRefusedAtLoad()
    {
        _bert.WriteFolder(exits: false);
        var e = Assert.Throws<ModelLoadException>(() => EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 1, DefaultPolicy = ExitPolicy.Entropy(0.3f) }));
        Assert.Contains("exits.safetensors", e.Message);
    }
}
