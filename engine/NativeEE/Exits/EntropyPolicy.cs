namespace NativeEE;

/// <summary>DeeBERT: exit when H(p) &lt; τ (nats).</summary>
internal sealed class EntropyPolicy : ExitPolicy
{
    public float Threshold { get; }

    public EntropyPolicy(float threshold)
    {
        if (!float.IsFinite(threshold) || threshold <= 0)
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold,
                $"entropy threshold must be a finite number > 0 (nats; ln C or more exits at the first head), got {Num(threshold)}");
        Threshold = threshold;
    }

    public override string Spec => "entropy:" + Num(Threshold);

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        Distribution.RequireNonEmpty(probabilities);
        state.Advance(layer);
        state.LastArgmax = Distribution.Argmax(probabilities);
        return Distribution.Entropy(probabilities) < Threshold;
    }
}
