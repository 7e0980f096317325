using System.Globalization;

namespace NativeEE.Training;

/// <summary>What one exit policy does on a labelled set (replayed over <see cref="ExitProbabilities"/>).</summary>
public sealed class PolicySimulation
{
    internal PolicySimulation(ExitPolicy policy, int correct, int samples, double meanLayers, int[] exitCounts, int totalLayers)
    {
        Policy = policy;
        Correct = correct;
        Accuracy = (double)correct / samples;
        MeanLayers = meanLayers;
        ExitCounts = exitCounts;
        TotalLayers = totalLayers;
    }

    /// <summary>The policy replayed.</summary>
    public ExitPolicy Policy { get; }

    /// <summary>Samples whose prediction at their exit is right.</summary>
    public int Correct { get; }

    /// <summary>Accuracy in [0, 1] of the prediction at each sample's exit.</summary>
    public double Accuracy { get; }

    /// <summary>Mean encoder layers run per sample (exit layer + 1).</summary>
    public double MeanLayers { get; }

    /// <summary>Samples exiting at each exit point (indexed like <see cref="ExitProbabilities.Layers"/>).</summary>
    public IReadOnlyList<int> ExitCounts { get; }

    /// <summary>Layers of the full model.</summary>
    public int TotalLayers { get; }

    /// <summary>Layer-count speed-up vs full depth: total layers / mean layers (ignores the heads' small cost).</summary>
    public double LayerSpeedup => TotalLayers / MeanLayers;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Policy.Spec}: accuracy {Accuracy:0.0000}, mean layers {MeanLayers:0.00}");
}

/// <summary>The outcome of <see cref="ExitCalibration.Calibrate"/>.</summary>
public sealed class CalibrationResult
{
    internal CalibrationResult(string kind, double maxDropPoints, PolicySimulation fullDepth, IReadOnlyList<PolicySimulation> sweep, PolicySimulation? chosen)
    {
        Kind = kind;
        MaxDropPoints = maxDropPoints;
        FullDepth = fullDepth;
        Sweep = sweep;
        Chosen = chosen;
    }

    /// <summary>The policy family swept (entropy, normentropy, maxprob, margin, patience, pcee).</summary>
    public string Kind { get; }

    /// <summary>Allowed accuracy loss vs full depth, in percentage points.</summary>
    public double MaxDropPoints { get; }

    /// <summary>Full depth on the same set: the accuracy the drop is measured from.</summary>
    public PolicySimulation FullDepth { get; }

    /// <summary>Every candidate, in the order tried.</summary>
    public IReadOnlyList<PolicySimulation> Sweep { get; }

    /// <summary>
    /// The fastest candidate (fewest mean layers; higher accuracy breaks ties) whose accuracy is at most
    /// <see cref="MaxDropPoints"/> below full depth; null when none is.
    /// </summary>
    public PolicySimulation? Chosen { get; }

    /// <summary>The chosen policy's facts for <c>PolicyFile.Save</c>; <paramref name="dataFile"/> names the calibration set.</summary>
    public PolicyCalibration ToPolicyCalibration(string dataFile)
    {
        var chosen = Chosen ?? throw new InvalidOperationException($"No {Kind} threshold stays within {MaxDropPoints} points of full depth.");
        return new PolicyCalibration
        {
            DataFile = dataFile,
            MaxAccuracyDrop = MaxDropPoints,
            DevAccuracy = chosen.Accuracy,
            FullDepthAccuracy = FullDepth.Accuracy,
            MeanLayers = chosen.MeanLayers,
            ExpectedSpeedup = chosen.LayerSpeedup,
        };
    }
}

/// <summary>
/// Threshold calibration by replay: every candidate policy is run through <see cref="ExitPolicy.ShouldExit"/>
/// — exactly the engine's decision code — over precomputed per-exit probabilities, which is legitimate because
/// a head's output does not depend on whether later layers run. Real runs still use the engine.
/// </summary>
public static class ExitCalibration
{
    /// <summary>The policy families <see cref="Candidates"/> and <see cref="Calibrate"/> know.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["entropy", "normentropy", "maxprob", "margin", "patience", "pcee"];

    /// <summary>Replays <paramref name="policy"/> per sample over the exit points; the last exit always stops.</summary>
    public static PolicySimulation Simulate(ExitProbabilities probabilities, ExitPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(policy);
        int n = probabilities.Count, e = probabilities.Layers.Count;
        if (n == 0) throw new ArgumentException("No samples to calibrate on.", nameof(probabilities));
        var labels = probabilities.Labels.Span;
        var layers = probabilities.Layers;
        var counts = new int[e];
        int correct = 0;
        long layersRun = 0;
        bool early = policy.UsesIntermediateHeads;
        for (int i = 0; i < n; i++)
        {
            var state = default(ExitState);
            int exit = e - 1;
            if (early)
                for (int k = 0; k < e - 1; k++)
                    if (policy.ShouldExit(probabilities.Get(i, k), layers[k], ref state))
                    {
                        exit = k;
                        break;
                    }
            counts[exit]++;
            layersRun += layers[exit] + 1;
            if (ExitHead.ArgMax(probabilities.Get(i, exit)) == labels[i]) correct++;
        }
        return new PolicySimulation(policy, correct, n, (double)layersRun / n, counts, probabilities.TotalLayers);
    }

    /// <summary>
    /// The default sweep of a policy family for C classes and E exit points, from the most eager exits to the most
    /// cautious: entropy τ ∈ (0, ln C] and normentropy τ ∈ (0, 1] in steps of 1/200 of the range; maxprob τ from
    /// 1/C to 0.9995; margin τ from 0 to 0.9995; patience t = 1 … E − 1; pcee t = 1 … min(3, E − 1) × maxprob τ.
    /// </summary>
    public static IReadOnlyList<ExitPolicy> Candidates(string kind, int classes, int exitPoints)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(exitPoints, 2);
        const int steps = 200;
        var list = new List<ExitPolicy>();
        float maxEntropy = MathF.Log(classes);
        switch (kind.Trim().ToLowerInvariant())
        {
            case "entropy":
                for (int k = steps; k >= 1; k--) list.Add(ExitPolicy.Entropy(Round(maxEntropy * k / steps)));
                break;
            case "normentropy":
                for (int k = steps; k >= 1; k--) list.Add(ExitPolicy.NormalizedEntropy(Round((float)k / steps)));
                break;
            case "maxprob":
                foreach (float t in ConfidenceGrid(classes, steps)) list.Add(ExitPolicy.MaxProbability(t));
                break;
            case "margin":
                for (int k = 0; k < steps; k++) list.Add(ExitPolicy.Margin(Round((float)k / steps)));
                list.Add(ExitPolicy.Margin(0.999f));
                list.Add(ExitPolicy.Margin(0.9995f));
                break;
            case "patience":
                for (int t = 1; t < exitPoints; t++) list.Add(ExitPolicy.Patience(t));
                break;
            case "pcee":
                for (int t = 1; t <= Math.Min(3, exitPoints - 1); t++)
                    foreach (float c in ConfidenceGrid(classes, steps / 4)) list.Add(ExitPolicy.PatientConfidence(t, c));
                break;
            default:
                throw new ArgumentException($"Unknown policy family '{kind}'; expected one of {string.Join(", ", Kinds)}.", nameof(kind));
        }
        return list;
    }

    /// <summary>
    /// Sweeps <paramref name="candidates"/> (default: <see cref="Candidates"/> of <paramref name="kind"/>) and picks the
    /// fastest whose accuracy is at most <paramref name="maxDropPoints"/> percentage points below full depth.
    /// </summary>
    public static CalibrationResult Calibrate(ExitProbabilities probabilities, string kind, double maxDropPoints,
        IReadOnlyList<ExitPolicy>? candidates = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (!(maxDropPoints >= 0) || !double.IsFinite(maxDropPoints))
            throw new ArgumentOutOfRangeException(nameof(maxDropPoints), maxDropPoints, "The allowed accuracy drop must be a finite number of points ≥ 0.");
        candidates ??= Candidates(kind, probabilities.Classes, probabilities.Layers.Count);
        var full = Simulate(probabilities, ExitPolicy.FullDepth);
        // Counts, not rates, decide eligibility, so "exactly maxDrop points" is not lost to rounding.
        double floor = full.Correct - maxDropPoints / 100 * probabilities.Count - 1e-9;
        var sweep = new List<PolicySimulation>(candidates.Count);
        PolicySimulation? chosen = null;
        foreach (var policy in candidates)
        {
            var s = Simulate(probabilities, policy);
            sweep.Add(s);
            if (s.Correct < floor) continue;
            if (chosen is null || s.MeanLayers < chosen.MeanLayers || (s.MeanLayers == chosen.MeanLayers && s.Accuracy > chosen.Accuracy))
                chosen = s;
        }
        return new CalibrationResult(kind, maxDropPoints, full, sweep, chosen);
    }

    static IEnumerable<float> ConfidenceGrid(int classes, int steps)
    {
        float lo = 1f / classes;
        for (int k = 0; k < steps; k++) yield return Round(lo + (1f - lo) * k / steps);
        yield return 0.999f;
        yield return 0.9995f;
    }

    // Thresholds users will read and type back: 4 decimals.
    static float Round(float v) => MathF.Round(v, 4);
}
