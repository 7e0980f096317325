namespace NativeEE;

/// <summary>CALM's top-2 margin: exit when p(top1) − p(top2) ≥ τ (a tie gives margin 0).</summary>
internal sealed class MarginPolicy : ExitPolicy
{
    public float Threshold { get; }

    public MarginPolicy(float threshold) => Threshold = CheckUnit(threshold, "margin", allowZero: true);

    public override string Spec => "margin:" + Num(Threshold);

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        Distribution.RequireNonEmpty(probabilities);
        state.Advance(layer);
        state.LastArgmax = Distribution.Argmax(probabilities);
        var (top1, top2) = Distribution.TopTwo(probabilities);
        return top1 - top2 >= Threshold;
    }
}
