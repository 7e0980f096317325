namespace NativeEE.Batching;

/// <summary>Diagnostics hook: told what every encoder layer actually computed (used by tests to prove skipped work is skipped).</summary>
internal interface ILayerObserver
{
    /// <summary>Layer <paramref name="layer"/> (0-based) ran on <paramref name="sequences"/> sequences holding <paramref name="tokenRows"/> token rows.</summary>
    void LayerRan(int layer, int sequences, int tokenRows);
}
