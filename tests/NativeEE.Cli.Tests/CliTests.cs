namespace NativeEE.Cli.Tests;

public class CliTests
{
    [Theory]
    [InlineData("bogus")]
    [InlineData("classify", "--threads", "0", "x")]
    [InlineData("classify", "--threads", "two", "x")]
    [InlineData("classify", "--policy", "entropy:abc", "x")]
    [InlineData("classify", "--policy", "nope:1", "x")]
    [InlineData("classify", "--no-such-option", "x")]
    [InlineData("eval")]
    [InlineData("eval", "--data", "x.tsv", "--sweep", "--policy", "entropy:0.3")]
    [InlineData("eval", "--data", "x.tsv", "--families", "entropy")]
    [InlineData("eval", "--data", "x.tsv", "--sweep", "--families", "nonsense")]
    [InlineData("calibrate", "--data", "x.tsv", "--max-drop", "-1")]
    [InlineData("calibrate", "--data", "x.tsv", "--policy-kind", "fastest")]
    [InlineData("train-exits", "--data", "x.tsv", "--optimizer", "lbfgs")]
    [InlineData("train-exits", "--data", "x.tsv", "--lr", "-0.1")]
    [InlineData("train-exits", "--data", "x.tsv", "--keep-best")]
    [InlineData("train-exits", "--data", "x.tsv", "--dropout", "1.5")]
    [InlineData("train-exits", "--data", "x.tsv", "--schedule", "step")]
    [InlineData("bench", "--batch", "0")]
    [InlineData("inspect")]
    public void BadArgumentsExitWith2AndOneLine(params string[] args)
    {
        var run = CliRun.Of(args);
        Assert.True(run.ExitCode == Cli.UsageError, run.ToString());
        Assert.Single(run.ErrorLines);
        Assert.StartsWith("nee: ", run.ErrorLines[0]);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public void BadPolicyMessageListsTheValidForms()
    {
        var run = CliRun.Of("classify", "--policy", "entropy:abc", "x");
        Assert.Contains("entropy:abc", run.Error);
        Assert.Contains(ExitPolicy.ValidForms, run.Error);
        Assert.Contains("nee classify --help", run.Error);
    }

    [Theory]
    [InlineData]
    [InlineData("classify")]
    [InlineData("eval")]
    [InlineData("train-exits")]
    [InlineData("calibrate")]
    [InlineData("bench")]
    [InlineData("inspect")]
    public void HelpShowsUsageAndExamples(params string[] command)
    {
        var run = CliRun.Of([.. command, "--help"]);
        Assert.True(run.ExitCode == Cli.Success, run.ToString());
        Assert.Contains("Usage:", run.Out);
        Assert.Contains("Examples:", run.Out);
        Assert.Contains("nee " + (command.Length == 0 ? "" : command[0]), run.Out[run.Out.IndexOf("Examples:", StringComparison.Ordinal)..]);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public void MissingModelFolderExitsWith1NamingIt()
    {
        string missing = Path.Combine(Path.GetTempPath(), "nee-no-such-model-" + Guid.NewGuid().ToString("N"));
        var run = CliRun.Of("classify", "--model", missing, "some text");
        Assert.Equal(Cli.Failure, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.Contains(missing, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void VerboseAddsTheStackTrace()
    {
        string missing = Path.Combine(Path.GetTempPath(), "nee-no-such-model-" + Guid.NewGuid().ToString("N"));
        var run = CliRun.Of("classify", "--verbose", "--model", missing, "some text");
        Assert.Equal(Cli.Failure, run.ExitCode);
        Assert.Contains(missing, run.ErrorLines[0]);
        Assert.Contains("   at ", run.Error);
    }

    [Fact]
    public void MissingDataFileExitsWith1NamingIt()
    {
        string missing = Path.Combine(Path.GetTempPath(), "nee-missing-" + Guid.NewGuid().ToString("N") + ".tsv");
        var run = CliRun.Of("eval", "--model", CliRun.Model, "--data", missing);
        Assert.Equal(Cli.Failure, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.Contains(missing, run.Error);
    }

    [Fact]
    public void CancelledBeforeStartExitsWith130()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var error = new StringWriter();
        int code = Cli.Run(["classify", "--model", CliRun.Model, "a film"], new CliConsole(new StringWriter(), error), cancel.Token);
        Assert.Equal(Cli.Cancelled, code);
        Assert.Equal("nee: cancelled", error.ToString().Trim());
    }

    /// <summary>
    /// --weight-cache DIR: the first run packs and writes the cache, the next maps it, both with the same output;
    /// --no-weight-cache writes nothing. (Without the option the per-user folder is used: <see cref="CacheIsolation"/>.)
    /// </summary>
    [Fact]
    public void WeightCacheOptionsChooseWhereThePackedWeightsComeFrom()
    {
        string cache = Directory.CreateTempSubdirectory("nee-weight-cache-").FullName;
        try
        {
            string text = "a gripping, funny film";
            var first = CliRun.Of("classify", "--verbose", "--weight-cache", cache, "--model", CliRun.Model, text);
            var second = CliRun.Of("classify", "--verbose", "--weight-cache", cache, "--model", CliRun.Model, text);
            var none = CliRun.Of("classify", "--verbose", "--no-weight-cache", "--model", CliRun.Model, text);
            Assert.True(first.ExitCode == Cli.Success, first.ToString());
            string file = Assert.Single(Directory.GetFiles(cache));
            Assert.Contains($"packed weights: Created ({file})", first.Error);
            Assert.Contains($"packed weights: Mapped ({file})", second.Error);
            Assert.Contains("packed weights: Disabled", none.Error);
            Assert.StartsWith("positive", first.Out);
            Assert.Equal(first.Out, second.Out);
            Assert.Equal(first.Out, none.Out);
            Assert.Single(Directory.GetFiles(cache));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }
}
