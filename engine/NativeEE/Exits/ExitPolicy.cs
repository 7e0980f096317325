using System.Globalization;

namespace NativeEE;

/// <summary>
/// Decides, after each layer that has an exit head, whether a sample stops there. Policies are immutable
/// and thread-safe: one instance serves every sample and thread; what a policy must remember for one sample
/// lives in that sample's <see cref="ExitState"/>. The engine always stops after the last layer, whatever the
/// policy says.
/// </summary>
public abstract class ExitPolicy
{
    /// <summary>The forms <see cref="Parse"/> accepts, for help texts and error messages.</summary>
    public const string ValidForms = "entropy:τ, normentropy:τ, maxprob:τ, margin:τ, patience:t, pcee:t,τ, full, fixed:k (e.g. entropy:0.3, pcee:2,0.9)";

    protected ExitPolicy() { }

    /// <summary>DeeBERT (Xin et al., 2020): exit when the entropy H(p) = −Σ p ln p (nats) is below τ; τ &gt; 0.
    /// τ ≥ ln C exits at the first head.</summary>
    public static ExitPolicy Entropy(float threshold) => new EntropyPolicy(threshold);

    /// <summary>FastBERT (Liu et al., 2020) "uncertainty": exit when H(p) / ln C is below τ; τ in (0, 1].</summary>
    public static ExitPolicy NormalizedEntropy(float threshold) => new NormalizedEntropyPolicy(threshold);

    /// <summary>Softmax response (Schwartz et al., 2020 "The Right Tool"; CALM): exit when max p ≥ τ; τ in [0, 1].</summary>
    public static ExitPolicy MaxProbability(float threshold) => new MaxProbabilityPolicy(threshold);

    /// <summary>CALM (Schuster et al., 2022) top-2 margin: exit when p(top1) − p(top2) ≥ τ; τ in [0, 1].</summary>
    public static ExitPolicy Margin(float threshold) => new MarginPolicy(threshold);

    /// <summary>
    /// PABEE (Zhou et al., 2020): exit when the argmax has stayed unchanged for <paramref name="patience"/>
    /// consecutive heads, i.e. the same class won t + 1 heads in a row (as in the authors' code: a counter
    /// that grows when a head agrees with the previous head, resets to 0 otherwise, exit when it reaches t).
    /// So the earliest exit is at the (t + 1)-th head. t ≥ 1.
    /// </summary>
    public static ExitPolicy Patience(int patience) => new PatiencePolicy(patience);

    /// <summary>
    /// PCEE-BERT (Zhang et al., 2022): exit when <paramref name="patience"/> consecutive heads were each
    /// confident (max p ≥ τ); an unconfident head resets the count. t = 1 equals MaxProbability(τ). t ≥ 1, τ in [0, 1].
    /// </summary>
    public static ExitPolicy PatientConfidence(int patience, float threshold) => new PatientConfidencePolicy(patience, threshold);

    /// <summary>Never exit early; intermediate heads are not computed at all.</summary>
    public static ExitPolicy FullDepth { get; } = new FullDepthPolicy();

    /// <summary>Run exactly <paramref name="layers"/> layers: exit at the first head whose 0-based layer index is
    /// ≥ layers − 1 (so a later head if there is none there; full depth if layers exceeds the model's). layers ≥ 1.</summary>
    public static ExitPolicy FixedDepth(int layers) => new FixedDepthPolicy(layers);

    /// <summary>The policy's spec string; <c>Parse(p.Spec)</c> gives an equal policy.</summary>
    public abstract string Spec { get; }

    /// <summary>False when the policy never exits before the last layer, so the engine need not compute intermediate heads.</summary>
    public virtual bool UsesIntermediateHeads => true;

    /// <summary>False when <see cref="ShouldExit"/> ignores the probabilities (depth-only policies): the engine
    /// may then pass an empty span and skip the head's softmax until the exit layer.</summary>
    public virtual bool ReadsProbabilities => true;

    /// <summary>
    /// probabilities[C] (softmax of the head's logits after encoder layer <paramref name="layer"/>, 0-based) → exit now?
    /// Called in increasing layer order for one sample, with that sample's <paramref name="state"/> (starts as default).
    /// Allocates nothing. NaN probabilities never trigger an exit.
    /// </summary>
    public abstract bool ShouldExit(ReadOnlySpan<float> probabilities, int layer, ref ExitState state);

    public override string ToString() => Spec;

    /// <summary>
    /// Parses a spec string such as "entropy:0.3", "pcee:2,0.9", "full" or "fixed:4" (names are case-insensitive,
    /// numbers use '.' as the decimal point). Bad input → <see cref="FormatException"/> with a one-line message
    /// that lists the valid forms.
    /// </summary>
    public static ExitPolicy Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string s = spec.Trim();
        int colon = s.IndexOf(':');
        string kind = (colon < 0 ? s : s[..colon]).Trim().ToLowerInvariant();
        string? args = colon < 0 ? null : s[(colon + 1)..].Trim();
        try
        {
            switch (kind)
            {
                case "full": NoArgs(args); return FullDepth;
                case "entropy": return Entropy(Float(args, "a threshold τ"));
                case "normentropy": return NormalizedEntropy(Float(args, "a threshold τ"));
                case "maxprob": return MaxProbability(Float(args, "a threshold τ"));
                case "margin": return Margin(Float(args, "a threshold τ"));
                case "patience": return Patience(Int(args, "a patience t"));
                case "fixed": return FixedDepth(Int(args, "a layer count k"));
                case "pcee":
                    int comma = args?.IndexOf(',') ?? -1;
                    if (comma < 0) throw Bad("pcee needs a patience and a threshold, e.g. pcee:2,0.9");
                    return PatientConfidence(Int(args![..comma], "a patience t"), Float(args[(comma + 1)..], "a threshold τ"));
                default:
                    throw Bad(kind.Length == 0 ? "no policy name" : $"unknown policy '{kind}'");
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException($"Invalid exit policy '{spec}': {OneLine(e)}. Valid forms: {ValidForms}.", e);
        }
        catch (FormatException e) when (e.Data.Contains(ReasonKey))
        {
            throw new FormatException($"Invalid exit policy '{spec}': {e.Message}. Valid forms: {ValidForms}.");
        }
    }

    /// <summary>Like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public static bool TryParse(string? spec, out ExitPolicy? policy)
    {
        policy = null;
        if (spec is null) return false;
        try { policy = Parse(spec); return true; }
        catch (FormatException) { return false; }
    }

    const string ReasonKey = "NativeEE.ExitPolicy.Reason";

    static FormatException Bad(string reason)
    {
        var e = new FormatException(reason);
        e.Data[ReasonKey] = true;
        return e;
    }

    static void NoArgs(string? args)
    {
        if (args is not null) throw Bad("'full' takes no arguments");
    }

    static float Float(string? text, string what)
    {
        if (string.IsNullOrWhiteSpace(text)) throw Bad($"missing {what}");
        if (!float.TryParse(text.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out float v))
            throw Bad($"'{text.Trim()}' is not a number (expected {what})");
        return v;
    }

    static int Int(string? text, string what)
    {
        if (string.IsNullOrWhiteSpace(text)) throw Bad($"missing {what}");
        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
            throw Bad($"'{text.Trim()}' is not an integer (expected {what})");
        return v;
    }

    // ArgumentOutOfRangeException appends "(Parameter ...)" and "Actual value ..." lines; keep the first.
    static string OneLine(Exception e)
    {
        string m = e.Message;
        int nl = m.IndexOfAny(['\r', '\n']);
        if (nl >= 0) m = m[..nl];
        int param = m.IndexOf(" (Parameter", StringComparison.Ordinal);
        return (param >= 0 ? m[..param] : m).TrimEnd('.');
    }

    /// <summary>Spec numbers: shortest text that round-trips the float, invariant culture.</summary>
    private protected static string Num(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private protected static float CheckUnit(float threshold, string name, bool allowZero)
    {
        if (!float.IsFinite(threshold) || threshold > 1 || threshold < 0 || (!allowZero && threshold == 0))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold,
                $"{name} threshold must be in {(allowZero ? "[0, 1]" : "(0, 1]")}, got {Num(threshold)}");
        return threshold;
    }

    private protected static int CheckCount(int value, string paramName, string what)
    {
        if (value < 1)
            throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be ≥ 1, got {value}");
        return value;
    }
}
