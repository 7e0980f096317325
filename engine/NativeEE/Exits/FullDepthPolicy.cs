namespace NativeEE;

/// <summary>Baseline: every layer runs; intermediate heads are not even computed.</summary>
internal sealed class FullDepthPolicy : ExitPolicy
{
    public override string Spec => "full";
    public override bool UsesIntermediateHeads => false;
    public override bool ReadsProbabilities => false;

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        state.Advance(layer);
        return false;
    }
}
