using System.Text.Json;

namespace NativeEE.Cli.Tests;

public class ClassifyCommandTests
{
    const int Texts = 5;

    [Fact]
    public void JsonHasOneObjectPerTextInOrderMatchingPyTorch()
    {
        var sentences = Reference.Sentences(Texts);
        var run = CliRun.Of(["classify", "--model", CliRun.Model, "--policy", "full", "--json", .. sentences]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Out);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        Assert.Equal(Texts, doc.RootElement.GetArrayLength());
        for (int i = 0; i < Texts; i++)
        {
            var o = doc.RootElement[i];
            Assert.Equal(sentences[i], o.GetProperty("text").GetString());
            int label = Reference.ArgMax(i, 5);
            Assert.Equal(label, o.GetProperty("label").GetInt32());
            Assert.Equal(label == 1 ? "positive" : "negative", o.GetProperty("labelName").GetString());
            var expected = Reference.Probabilities(i, 5);
            var probabilities = o.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(2, probabilities.Length);
            for (int c = 0; c < 2; c++) Assert.Equal(expected[c], probabilities[c], 1e-4);
            Assert.Equal(expected[label], o.GetProperty("confidence").GetDouble(), 1e-4);
            Assert.Equal(5, o.GetProperty("exitLayer").GetInt32());
            Assert.Equal(6, o.GetProperty("layersRun").GetInt32());
            Assert.False(o.TryGetProperty("trace", out _));
        }
    }

    /// <summary>
    /// With --trace every head up to the exit is listed, each matching PyTorch's head, and the exit is the first head
    /// whose entropy is below τ — the DeeBERT rule checked on the reference probabilities, not on nee's own.
    /// </summary>
    [Fact]
    public void TraceShowsEveryHeadUpToTheEntropyExit()
    {
        const double tau = 0.3;
        var sentences = Reference.Sentences(Texts);
        var run = CliRun.Of(["classify", "--model", CliRun.Model, "--policy", "entropy:0.3", "--trace", "--json", .. sentences]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Out);
        for (int i = 0; i < Texts; i++)
        {
            int expectedExit = 5;
            for (int l = 0; l < 5; l++)
            {
                var p = Reference.Probabilities(i, l);
                if (-(p[0] * Math.Log(p[0]) + p[1] * Math.Log(p[1])) < tau) { expectedExit = l; break; }
            }
            var o = doc.RootElement[i];
            Assert.Equal(expectedExit, o.GetProperty("exitLayer").GetInt32());
            var trace = o.GetProperty("trace");
            Assert.Equal(expectedExit + 1, trace.GetArrayLength());
            for (int l = 0; l <= expectedExit; l++)
            {
                Assert.Equal(l, trace[l].GetProperty("layer").GetInt32());
                var expected = Reference.Probabilities(i, l);
                var actual = trace[l].GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                for (int c = 0; c < 2; c++) Assert.Equal(expected[c], actual[c], 1e-4);
            }
        }
    }

    [Fact]
    public void StandardInputIsReadLineByLineInOrder()
    {
        var sentences = Reference.Sentences(Texts);
        var run = CliRun.Of(["classify", "--model", CliRun.Model, "--policy", "full"], string.Join("\n", sentences) + "\n\n");
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Texts, lines.Length);
        for (int i = 0; i < Texts; i++)
        {
            Assert.StartsWith(Reference.ArgMax(i, 5) == 1 ? "positive" : "negative", lines[i]);
            Assert.Contains("layer 6/6", lines[i]);
            Assert.EndsWith(sentences[i], lines[i]);
        }
    }

    [Fact]
    public void EarlyExitPolicyOnAModelWithoutHeadsIsRefusedNamingTheFolder()
    {
        using var model = new TempModel("exits.safetensors");
        var run = CliRun.Of("classify", "--model", model.Directory, "--policy", "entropy:0.3", "a film");
        Assert.Equal(Cli.Failure, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.Contains(model.Directory, run.Error);
        Assert.Contains("exits.safetensors", run.Error);
    }
}
