using NativeEE.Kernels;

namespace NativeEE.Cli.Tests;

public class InspectCommandTests
{
    [Fact]
    public void SharedModelShowsTensorsConfigExitsAndIsa()
    {
        var run = CliRun.Of("inspect", CliRun.Model);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("6 layers, hidden 384, 12 heads", run.Out);
        Assert.Contains("labels: 0=negative, 1=positive", run.Out);
        Assert.Matches(@"bert\.encoder\.layer\.5\.output\.dense\.weight\s+F32\s+\[384, 1536\]\s+589,824\s+2\.25 MiB", run.Out);
        Assert.Matches(@"exits\.4\.classifier\.bias\s+F32\s+\[2\]\s+2\s+8 B", run.Out);
        Assert.Contains("exit heads after layers (0-based): 0,1,2,3,4", run.Out);
        Assert.Contains($"active ISA: {Isa.Description}", run.Out);
    }

    [Fact]
    public void CorruptedExitsFileIsOneLineNamingIt()
    {
        using var model = new TempModel("exits.safetensors");
        string exits = model.PathOf("exits.safetensors");
        var bytes = File.ReadAllBytes(Path.Combine(CliRun.Model, "exits.safetensors"));
        File.WriteAllBytes(exits, bytes[..1000]); // header intact, data cut short
        foreach (var target in new[] { model.Directory, exits })
        {
            var run = CliRun.Of("inspect", target);
            Assert.Equal(Cli.Failure, run.ExitCode);
            Assert.Single(run.ErrorLines);
            Assert.Contains(exits, run.Error);
            Assert.DoesNotContain("   at ", run.Error);
        }
    }

    [Fact]
    public void MissingPathIsExit1()
    {
        var run = CliRun.Of("inspect", Path.Combine(Path.GetTempPath(), "nee-nothing-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(Cli.Failure, run.ExitCode);
        Assert.Contains("no such file or folder", run.Error);
    }
}
