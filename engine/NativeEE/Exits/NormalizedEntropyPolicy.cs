namespace NativeEE;

/// <summary>FastBERT: exit when H(p) / ln C &lt; τ, which makes τ comparable across label counts.</summary>
internal sealed class NormalizedEntropyPolicy : ExitPolicy
{
    public float Threshold { get; }

    public NormalizedEntropyPolicy(float threshold) => Threshold = CheckUnit(threshold, "normalized entropy", allowZero: false);

    public override string Spec => "normentropy:" + Num(Threshold);

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        Distribution.RequireNonEmpty(probabilities);
        state.Advance(layer);
        state.LastArgmax = Distribution.Argmax(probabilities);
        // One class carries no uncertainty: its normalized entropy is 0 (ln 1 = 0 would divide by zero).
        if (probabilities.Length == 1) return !float.IsNaN(probabilities[0]);
        return Distribution.Entropy(probabilities) / Math.Log(probabilities.Length) < Threshold;
    }
}
