namespace NativeEE;

/// <summary>Baseline: run k layers, i.e. exit at the first head at 0-based layer ≥ k − 1.</summary>
internal sealed class FixedDepthPolicy : ExitPolicy
{
    public int Layers { get; }

    public FixedDepthPolicy(int layers) => Layers = CheckCount(layers, nameof(layers), "fixed depth (layers to run)");

    public override string Spec => "fixed:" + Layers.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public override bool ReadsProbabilities => false;

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        state.Advance(layer);
        return layer >= Layers - 1;
    }
}
