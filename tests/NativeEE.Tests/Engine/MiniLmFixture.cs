namespace NativeEE.Tests.Engine;

/// <summary>The shared MiniLM SST-2 model, loaded once for every test in <see cref="MiniLmCollection"/>.</summary>
public sealed class MiniLmFixture : IDisposable
{
    readonly Lazy<float[]> _evalExitLogits;

    public MiniLmFixture() => _evalExitLogits = new(() =>
    {
        var eval = EvalSet.Test;
        var logits = new float[eval.Count * Model.ExitLayers.Count * Model.Config.NumLabels];
        Model.ComputeExitLogits(eval.FlatIds, eval.Offsets, logits);
        return logits;
    });

    public EarlyExitModel Model { get; } = EarlyExitModel.Load(SharedPaths.MiniLm, new ModelOptions { Threads = 2 });

    /// <summary>Every head's logits for every row of test.tsv, [872, 6, 2] (computed once, on first use).</summary>
    public float[] EvalExitLogits => _evalExitLogits.Value;

    public void Dispose() => Model.Dispose();
}

[CollectionDefinition(Name)]
public sealed class MiniLmCollection : ICollectionFixture<MiniLmFixture>
{
    public const string Name = "MiniLM model";
}
