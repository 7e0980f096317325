using System.Text.Json;

namespace NativeEE.Cli.Tests;

public class CalibrateCommandTests
{
    /// <summary>
    /// calibrate writes the folder's default policy; its dev accuracy really is within the allowed drop when the engine
    /// runs it (eval, an independent path); classify then uses it without --policy.
    /// </summary>
    [Fact]
    public void WritesAPolicyWithinTheDropThatClassifyThenUses()
    {
        using var model = new TempModel();
        const string rows = "300";
        var run = CliRun.Of("calibrate", "--model", model.Directory, "--data", CliRun.DevTsv, "--limit", rows, "--max-drop", "1.0");
        Assert.True(run.ExitCode == 0, run.ToString());
        var saved = PolicyFile.TryRead(model.Directory);
        Assert.NotNull(saved);
        var (policy, calibration) = saved.Value;
        Assert.StartsWith("entropy:", policy.Spec);
        Assert.NotNull(calibration);
        Assert.Equal("dev.tsv", calibration.DataFile);
        Assert.Contains(policy.Spec, run.Out);

        var eval = CliRun.Of("eval", "--model", model.Directory, "--data", CliRun.DevTsv, "--limit", rows, "--repeat", "1", "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        using var doc = JsonDocument.Parse(eval.Out);
        var measured = doc.RootElement.GetProperty("policies")[0];
        Assert.Equal(policy.Spec, measured.GetProperty("policy").GetString());
        Assert.True(measured.GetProperty("accuracyDropPoints").GetDouble() <= 1.0 + 1e-9, eval.Out);
        Assert.Equal(calibration.DevAccuracy, measured.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal(calibration.MeanLayers, measured.GetProperty("meanLayers").GetDouble(), 1e-12);

        string[] texts = Reference.Sentences(8);
        var withDefault = CliRun.Of(["classify", "--model", model.Directory, "--json", .. texts]);
        var explicitPolicy = CliRun.Of(["classify", "--model", CliRun.Model, "--policy", policy.Spec, "--json", .. texts]);
        Assert.True(withDefault.ExitCode == 0, withDefault.ToString());
        Assert.Equal(explicitPolicy.Out, withDefault.Out);
    }

    [Fact]
    public void ModelWithoutExitHeadsHasNothingToCalibrate()
    {
        using var model = new TempModel("exits.safetensors");
        var run = CliRun.Of("calibrate", "--model", model.Directory, "--data", CliRun.DevTsv, "--limit", "10");
        Assert.Equal(Cli.Failure, run.ExitCode);
        Assert.Contains("exits.safetensors", run.Error);
    }
}
