namespace NativeEE.Tests.Engine;

/// <summary>The shared MiniLM SST-2 model, loaded once for every test in <see cref="MiniLmCollection"/>.</summary>
public sealed class MiniLmFixture : IDisposable
{
    public EarlyExitModel Model { get; } = EarlyExitModel.Load(SharedPaths.MiniLm, new ModelOptions { Threads = 2 });

    public void Dispose() => Model.Dispose();
}

[CollectionDefinition(Name)]
public sealed class MiniLmCollection : ICollectionFixture<MiniLmFixture>
{
    public const string Name = "MiniLM model";
}
