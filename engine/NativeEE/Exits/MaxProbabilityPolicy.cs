namespace NativeEE;

/// <summary>Softmax response: exit when max p ≥ τ.</summary>
internal sealed class MaxProbabilityPolicy : ExitPolicy
{
    public float Threshold { get; }

    public MaxProbabilityPolicy(float threshold) => Threshold = CheckUnit(threshold, "max-probability", allowZero: true);

    public override string Spec => "maxprob:" + Num(Threshold);

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        Distribution.RequireNonEmpty(probabilities);
        state.Advance(layer);
        int arg = Distribution.Argmax(probabilities);
        state.LastArgmax = arg;
        return probabilities[arg] >= Threshold;
    }
}
