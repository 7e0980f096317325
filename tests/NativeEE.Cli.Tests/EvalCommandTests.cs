using System.Text.Json;

namespace NativeEE.Cli.Tests;

public class EvalCommandTests
{
    /// <summary>
    /// On the 64 reference rows, eval's accuracy, mean layers and exit histogram equal what PyTorch's per-layer logits
    /// give when the entropy rule is replayed on them — and full depth equals PyTorch's final accuracy.
    /// </summary>
    [Fact]
    public void AccuracyLayersAndHistogramMatchTheReferenceReplay()
    {
        const double tau = 0.3;
        var run = CliRun.Of("eval", "--model", CliRun.Model, "--data", CliRun.TestTsv, "--limit", "64", "--repeat", "1",
            "--policy", "full", "--policy", "entropy:0.3", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Out);
        var root = doc.RootElement;
        Assert.Equal(64, root.GetProperty("texts").GetInt32());

        var labels = Reference.Labels;
        int fullCorrect = 0, entropyCorrect = 0, layers = 0;
        var histogram = new int[6];
        for (int i = 0; i < 64; i++)
        {
            if (Reference.ArgMax(i, 5) == labels[i]) fullCorrect++;
            int exit = 5;
            for (int l = 0; l < 5; l++)
            {
                var p = Reference.Probabilities(i, l);
                if (-(p[0] * Math.Log(p[0]) + p[1] * Math.Log(p[1])) < tau) { exit = l; break; }
            }
            histogram[exit]++;
            layers += exit + 1;
            if (Reference.ArgMax(i, exit) == labels[i]) entropyCorrect++;
        }
        Assert.Equal(fullCorrect / 64.0, root.GetProperty("fullDepthAccuracy").GetDouble(), 1e-12);

        var policies = root.GetProperty("policies");
        Assert.Equal(2, policies.GetArrayLength());
        var full = policies[0];
        Assert.Equal("full", full.GetProperty("policy").GetString());
        Assert.Equal(fullCorrect / 64.0, full.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal(6.0, full.GetProperty("meanLayers").GetDouble(), 1e-12);

        var entropy = policies[1];
        Assert.Equal("entropy:0.3", entropy.GetProperty("policy").GetString());
        Assert.Equal(entropyCorrect / 64.0, entropy.GetProperty("accuracy").GetDouble(), 1e-12);
        Assert.Equal(layers / 64.0, entropy.GetProperty("meanLayers").GetDouble(), 1e-12);
        Assert.Equal(6.0 / (layers / 64.0), entropy.GetProperty("layerSpeedup").GetDouble(), 1e-9);
        var counts = entropy.GetProperty("exitHistogram").EnumerateArray().Select(e => e.GetProperty("count").GetInt32()).ToArray();
        Assert.Equal(histogram, counts);
        double speedup = entropy.GetProperty("measuredSpeedup").GetDouble();
        Assert.True(double.IsFinite(speedup) && speedup > 0, $"measured speed-up {speedup}");
    }

    [Fact]
    public void CsvWithQuotesNamedColumnsAndLabelNamesAgreesWithClassify()
    {
        string[] texts = ["a gripping, \"funny\" film", "dull,\nlifeless and long", "one of the year's best"];
        string[] labels = ["positive", "negative", "negative"];
        string path = Path.Combine(Path.GetTempPath(), $"nee-eval-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "id,review,stars\n" + string.Concat(texts.Select((t, i) => $"{i},\"{t.Replace("\"", "\"\"")}\",{labels[i]}\n")));
        try
        {
            var classify = CliRun.Of(["classify", "--model", CliRun.Model, "--policy", "full", "--json", .. texts]);
            Assert.True(classify.ExitCode == 0, classify.ToString());
            using var predicted = JsonDocument.Parse(classify.Out);
            int correct = Enumerable.Range(0, texts.Length).Count(i => predicted.RootElement[i].GetProperty("labelName").GetString() == labels[i]);

            var run = CliRun.Of("eval", "--model", CliRun.Model, "--data", path, "--text-column", "review", "--label-column", "2",
                "--policy", "full", "--repeat", "1", "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            using var doc = JsonDocument.Parse(run.Out);
            Assert.Equal(texts.Length, doc.RootElement.GetProperty("texts").GetInt32());
            Assert.Equal((double)correct / texts.Length, doc.RootElement.GetProperty("fullDepthAccuracy").GetDouble(), 1e-12);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadLabelExitsWith1NamingFileAndLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nee-eval-{Guid.NewGuid():N}.tsv");
        File.WriteAllText(path, "sentence\tlabel\ngood film\t1\nbad film\tmaybe\n");
        try
        {
            var run = CliRun.Of("eval", "--model", CliRun.Model, "--data", path);
            Assert.Equal(Cli.Failure, run.ExitCode);
            Assert.Single(run.ErrorLines);
            Assert.Contains($"{path} line 3", run.Error);
            Assert.Contains("'maybe'", run.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SweepWritesAPlotPerFamily()
    {
        string plot = Path.Combine(Path.GetTempPath(), $"nee-sweep-{Guid.NewGuid():N}.png");
        try
        {
            var run = CliRun.Of("eval", "--model", CliRun.Model, "--data", CliRun.TestTsv, "--limit", "16", "--sweep",
                "--families", "entropy", "patience", "--plot", plot, "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            using var doc = JsonDocument.Parse(run.Out);
            var specs = doc.RootElement.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("policy").GetString()!).ToArray();
            Assert.Contains("entropy:0.3", specs);
            Assert.Contains("patience:2", specs);
            Assert.All(specs, s => Assert.True(s.StartsWith("entropy:", StringComparison.Ordinal) || s.StartsWith("patience:", StringComparison.Ordinal), s));
            string svg = File.ReadAllText(Path.ChangeExtension(plot, ".svg"));
            Assert.Contains("<svg", svg);
            Assert.Contains(">entropy<", svg);
            Assert.Contains(">patience<", svg);
            Assert.Equal(plot, doc.RootElement.GetProperty("plot").GetString());
            var png = File.ReadAllBytes(plot);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
        finally
        {
            File.Delete(plot);
            File.Delete(Path.ChangeExtension(plot, ".svg"));
        }
    }
}
