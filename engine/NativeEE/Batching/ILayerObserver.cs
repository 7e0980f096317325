namespace NativeEE.Batching;

/// <summary>Diagnostics hook: told what every encoder layer actually computed (used by tests to prove skipped work is skipped).</summary>
internal interface ILayerObserver
{
    /// <summary>Layer <paramref name="layer"/> (0-based) ran on <paramref name="sequences"/> sequences holding <paramref name="tokenRows"/> token rows.</summary>
    void LayerRan(int layer, int sequences, int tokenRows);

    /// <summary>
    /// Layer <paramref name="layer"/> was finished lazily (see <see cref="LayerDeferral"/>): after its head, its
    /// remaining rows ran for the <paramref name="sequences"/> sequences going on, <paramref name="tokenRows"/> rows.
    /// </summary>
    void LayerFinishedLazily(int layer, int sequences, int tokenRows) { }
}
