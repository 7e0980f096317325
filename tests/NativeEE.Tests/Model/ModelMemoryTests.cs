using NativeEE.Model;

namespace NativeEE.Tests.Model;

public sealed class ModelMemoryTests
{
    sealed class Mapping : IDisposable
    {
        public int Disposed;
        public void Dispose() => Disposed++;
    }

    [Fact]
    public void DisposeReleasesTheMappingsOnce()
    {
        var memory = new ModelMemory();
        var a = memory.Own(new Mapping());
        var b = memory.Own(new Mapping());
        memory.Dispose();
        memory.Dispose();
        Assert.Equal(1, a.Disposed);
        Assert.Equal(1, b.Disposed);
        Assert.False(memory.IsAlive);
        Assert.Throws<ObjectDisposedException>(memory.Acquire);
    }

    /// <summary>A call that holds a lease keeps the mappings until it ends, even when the model is disposed meanwhile.</summary>
    [Fact]
    public void ARunningCallKeepsTheMappingsUntilItReleases()
    {
        var memory = new ModelMemory();
        var mapping = memory.Own(new Mapping());
        memory.Acquire();
        memory.Acquire();
        memory.Dispose();
        Assert.Equal(0, mapping.Disposed);
        Assert.Throws<ObjectDisposedException>(memory.Acquire);
        memory.Release();
        Assert.Equal(0, mapping.Disposed);
        memory.Release();
        Assert.Equal(1, mapping.Disposed);
    }

    [Fact]
    public void LeasesFromManyThreadsBalance()
    {
        var memory = new ModelMemory();
        var mapping = memory.Own(new Mapping());
        Parallel.For(0, 10_000, _ =>
        {
            memory.Acquire();
            memory.Release();
        });
        Assert.Equal(0, mapping.Disposed);
        memory.Dispose();
        Assert.Equal(1, mapping.Disposed);
    }
}
