namespace NativeEE;

/// <summary>PCEE-BERT: exit once t consecutive heads were each confident (max p ≥ τ); an unconfident head resets the count.</summary>
internal sealed class PatientConfidencePolicy : ExitPolicy
{
    public int Heads { get; }
    public float Threshold { get; }

    public PatientConfidencePolicy(int patience, float threshold)
    {
        Heads = CheckCount(patience, nameof(patience), "patience");
        Threshold = CheckUnit(threshold, "confidence", allowZero: true);
    }

    public override string Spec => "pcee:" + Heads.ToString(System.Globalization.CultureInfo.InvariantCulture) + "," + Num(Threshold);

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        Distribution.RequireNonEmpty(probabilities);
        state.Advance(layer);
        int arg = Distribution.Argmax(probabilities);
        state.LastArgmax = arg;
        state.Streak = probabilities[arg] >= Threshold ? state.Streak + 1 : 0;
        return state.Streak >= Heads;
    }
}
