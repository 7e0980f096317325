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

    /// <summary>
    /// --exclude-seen: the dev rows a training file contains word for word are left out (counted, reported and recorded),
    /// and the threshold is calibrated on exactly the rest — eval of that rest, an independent path, gives the saved figures.
    /// </summary>
    [Fact]
    public void ExcludeSeenCalibratesOnTheRowsTheTrainingFileDoesNotContain()
    {
        using var model = new TempModel();
        string work = Directory.CreateTempSubdirectory("nee-seen-").FullName;
        try
        {
            var devRows = File.ReadLines(CliRun.DevTsv).Skip(1).Take(60).ToArray();
            string dev = Path.Combine(work, "dev.tsv"), train = Path.Combine(work, "train.tsv");
            File.WriteAllLines(dev, ["sentence\tlabel", .. devRows]);
            // Every third dev row, inside a longer training sentence (the way SST-2 phrases sit inside sentences).
            File.WriteAllLines(train, ["sentence\tlabel", .. devRows.Where((_, i) => i % 3 == 0).Select(r => "well , " + r.Split('\t')[0] + " indeed\t1")]);

            // Oracle: plain substring search on space-normalised, lower-cased text.
            static string Norm(string s) => " " + string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant() + " ";
            var trainTexts = File.ReadLines(train).Skip(1).Select(l => Norm(l.Split('\t')[0])).ToArray();
            var unseen = devRows.Where(r => !trainTexts.Any(t => t.Contains(Norm(r.Split('\t')[0]), StringComparison.Ordinal))).ToArray();
            Assert.InRange(unseen.Length, 20, 40);

            var run = CliRun.Of("calibrate", "--model", model.Directory, "--data", dev, "--exclude-seen", train, "--max-drop", "1.0");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains($"left out {devRows.Length - unseen.Length} of {devRows.Length} rows", run.Error);
            Assert.Contains($"{unseen.Length} texts (of {devRows.Length};", run.Out);
            var (policy, calibration) = PolicyFile.TryRead(model.Directory)!.Value;
            Assert.NotNull(calibration);
            Assert.Equal(unseen.Length, calibration.Rows);
            Assert.Equal("train.tsv", calibration.ExcludedSeenIn);

            string rest = Path.Combine(work, "unseen.tsv");
            File.WriteAllLines(rest, ["sentence\tlabel", .. unseen]);
            var eval = CliRun.Of("eval", "--model", model.Directory, "--data", rest, "--repeat", "1", "--json");
            Assert.True(eval.ExitCode == 0, eval.ToString());
            using var doc = JsonDocument.Parse(eval.Out);
            var measured = doc.RootElement.GetProperty("policies")[0];
            Assert.Equal(policy.Spec, measured.GetProperty("policy").GetString());
            Assert.Equal(calibration.DevAccuracy, measured.GetProperty("accuracy").GetDouble(), 1e-12);
            Assert.Equal(calibration.MeanLayers, measured.GetProperty("meanLayers").GetDouble(), 1e-12);

            // A dev set the training file wholly contains leaves nothing to calibrate on.
            var none = CliRun.Of("calibrate", "--model", model.Directory, "--data", dev, "--exclude-seen", dev);
            Assert.Equal(Cli.Failure, none.ExitCode);
            Assert.Contains("nothing is left to calibrate on", none.Error);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
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
