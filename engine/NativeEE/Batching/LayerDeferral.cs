namespace NativeEE.Batching;

/// <summary>
/// Decides, per layer and call, whether to finish a layer lazily (see <see cref="BatchRunner"/>): after attention,
/// the [CLS] rows first (output projection and feed-forward on S rows), the head decides, and the other rows only
/// for the sequences that go on. That saves three quarters of the layer for every token of a sequence that exits
/// there, but streams the layer's output and feed-forward weights a second time for the small [CLS] GEMMs — about
/// what <see cref="WeightPassRows"/> rows of the big GEMMs cost. So it pays where many tokens are likely to exit:
/// defer when (expected exit fraction at this layer) × (tokens running) &gt; (sequences running) + WeightPassRows.
/// </summary>
/// <remarks>
/// The exit fraction per layer is a moving average over this model's past calls (any policy). It only steers
/// the order of work: every kernel computes a row the same way whatever else shares the call, so results are
/// bit-identical either way, and racy updates from concurrent calls are harmless.
/// </remarks>
internal sealed class LayerDeferral
{
    /// <summary>Cost of the second weight pass, in rows of the big GEMMs (measured: M = 1 cold ≈ 16 GFLOP/s vs ≈ 180 at M = 25).</summary>
    internal const float WeightPassRows = 12f;
    const float Prior = 0.2f, Keep = 0.9f;
    readonly float[] _exitRate;
    readonly float _weightPassRows;

    /// <param name="layers">Encoder layers.</param>
    /// <param name="weightPassRows">The second weight pass's cost in rows; negative: always defer (tests).</param>
    public LayerDeferral(int layers, float weightPassRows = WeightPassRows)
    {
        _exitRate = new float[layers];
        Array.Fill(_exitRate, Prior);
        _weightPassRows = weightPassRows;
    }

    /// <summary>Whether to finish layer <paramref name="layer"/> lazily for <paramref name="sequences"/> sequences of <paramref name="tokens"/> rows in all.</summary>
    public bool ShouldDefer(int layer, int sequences, int tokens) =>
        _weightPassRows < 0 || Volatile.Read(ref _exitRate[layer]) * tokens > sequences + _weightPassRows;

    /// <summary>Records that <paramref name="exited"/> of <paramref name="sequences"/> sequences exited after <paramref name="layer"/>.</summary>
    public void Record(int layer, int sequences, int exited)
    {
        float rate = Keep * Volatile.Read(ref _exitRate[layer]) + (1 - Keep) * exited / sequences;
        Volatile.Write(ref _exitRate[layer], rate);
    }

    /// <summary>The current estimate for <paramref name="layer"/> (tests, diagnostics).</summary>
    public float ExitRate(int layer) => Volatile.Read(ref _exitRate[layer]);
}
