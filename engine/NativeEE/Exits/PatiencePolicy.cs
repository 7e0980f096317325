namespace NativeEE;

/// <summary>
/// PABEE (Zhou et al., 2020; transformers examples/research_projects/bert-loses-patience, modeling_pabee_bert.py):
/// exit once the argmax has stayed the same for t consecutive heads after the one that first chose it
/// (t + 1 agreeing heads in a row). Mirrors the authors' loop: the counter grows when a head's argmax equals
/// the previous head's, is reset to 0 otherwise, and the sample exits when it equals t.
/// </summary>
internal sealed class PatiencePolicy : ExitPolicy
{
    public int Heads { get; }

    public PatiencePolicy(int patience) => Heads = CheckCount(patience, nameof(patience), "patience");

    public override string Spec => "patience:" + Heads.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state)
    {
        Distribution.RequireNonEmpty(probabilities);
        bool first = state.HeadsSeen == 0;
        state.Advance(layer);
        int arg = Distribution.Argmax(probabilities);
        state.Streak = !first && arg == state.LastArgmax ? state.Streak + 1 : 0;
        state.LastArgmax = arg;
        return state.Streak >= Heads;
    }
}
