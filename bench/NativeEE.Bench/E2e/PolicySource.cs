using System.Globalization;
using NativeEE.Training;

namespace NativeEE.Bench.E2e;

/// <summary>A calibrated exit policy for one model folder and where it came from (for the report).</summary>
internal sealed record PolicySource(ExitPolicy Policy, string Origin)
{
    /// <summary>
    /// The policy to measure as "calibrated": <paramref name="argument"/> (a spec, a nativeee-policy.json or its folder)
    /// if given; else the folder's own nativeee-policy.json; else one calibrated here on <paramref name="calibrationData"/>
    /// (the fastest <paramref name="kind"/> threshold within <paramref name="maxDrop"/> accuracy points of full depth,
    /// replayed from every head's output on that set, as <c>nee calibrate</c> does); else null.
    /// </summary>
    public static PolicySource? Resolve(string? argument, EarlyExitModel model, string? calibrationData, string kind, double maxDrop, Action<string> log)
    {
        if (argument is not null) return FromArgument(argument);
        if (PolicyFile.TryRead(model.Directory) is { } own)
            return new(own.Policy, $"{Path.Combine(model.Directory, PolicyFile.FileName)}{Describe(own.Calibration)}");
        if (calibrationData is null || !model.HasExitHeads) return null;

        log($"calibrating the exit policy ({kind}) for {model.Directory} on {calibrationData} (max drop {maxDrop} pt)");
        var set = EvalSet.Load(calibrationData, model, int.MaxValue);
        var probabilities = ExitProbabilities.FromModel(model, set.Ids, set.Labels, 64);
        CalibrationResult? best = null;
        foreach (string k in kind == "all" ? ExitCalibration.Kinds : [kind])
        {
            var result = ExitCalibration.Calibrate(probabilities, k, maxDrop);
            if (result.Chosen is { } c && (best?.Chosen is null || c.MeanLayers < best.Chosen.MeanLayers)) best = result;
        }
        if (best?.Chosen is not { } chosen)
        {
            log($"no {kind} policy stays within {maxDrop} pt of full depth on {calibrationData}");
            return null;
        }
        return new(chosen.Policy, string.Create(CultureInfo.InvariantCulture,
            $"calibrated by the bench on {Path.GetFileName(calibrationData)} ({set.Count} sentences, fastest {kind} threshold within {maxDrop} pt): " +
            $"dev accuracy {100 * chosen.Accuracy:0.0} % vs {100 * best.FullDepth.Accuracy:0.0} % at full depth, {chosen.MeanLayers:0.00} layers"));
    }

    static PolicySource FromArgument(string argument)
    {
        if (Directory.Exists(argument))
            return PolicyFile.TryRead(argument) is { } inFolder
                ? new(inFolder.Policy, Path.Combine(argument, PolicyFile.FileName) + Describe(inFolder.Calibration))
                : throw new FileNotFoundException($"--policy {argument}: the folder has no {PolicyFile.FileName}.");
        if (File.Exists(argument))
        {
            if (!string.Equals(Path.GetFileName(argument), PolicyFile.FileName, StringComparison.Ordinal))
                throw new ArgumentException($"--policy {argument}: a policy file must be named {PolicyFile.FileName}.");
            var read = PolicyFile.TryRead(Path.GetDirectoryName(Path.GetFullPath(argument))!)!.Value;
            return new(read.Policy, argument + Describe(read.Calibration));
        }
        return new(ExitPolicy.Parse(argument), "--policy " + argument);
    }

    static string Describe(PolicyCalibration? c) => c is null ? "" : string.Create(CultureInfo.InvariantCulture,
        $" (calibrated on {c.DataFile}: accuracy {100 * c.DevAccuracy:0.0} %{(c.FullDepthAccuracy is double f ? $" vs {100 * f:0.0} % at full depth" : "")}, {c.MeanLayers:0.00} layers)");
}
