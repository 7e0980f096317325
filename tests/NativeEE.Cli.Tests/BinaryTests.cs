using System.Diagnostics;
using System.Text.Json;

namespace NativeEE.Cli.Tests;

/// <summary>The built <c>nee</c> executable, run as a user would: its own process, arguments, standard input and exit code.</summary>
public class BinaryTests
{
    static readonly string Executable = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "nee.exe" : "nee");

    static (int Code, string Out, string Error) Start(string? stdin, params string[] args)
    {
        Assert.True(File.Exists(Executable), $"the nee apphost is missing at {Executable}");
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void ClassifiesPipedTextAndReportsBadArguments()
    {
        var (code, output, error) = Start("a gripping, funny film\na dull, lifeless mess\n", "classify", "--model", CliRun.Model);
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("positive", lines[0]);
        Assert.StartsWith("negative", lines[1]);

        (code, _, error) = Start(null, "classify", "--threads", "0", "x");
        Assert.Equal(2, code);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>In a process of its own nothing else allocates, so the engine's zero-allocation promise is checkable.</summary>
    [Fact]
    public void BenchJsonReportsZeroAllocationsOnThePreTokenizedPath()
    {
        var (code, output, error) = Start(null, "bench", "--model", CliRun.Model, "--iterations", "5", "--batch", "2", "--tokens", "16", "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(0, root.GetProperty("allocatedBytesPerCall").GetInt64());
        Assert.Equal(32, root.GetProperty("tokens").GetInt32());
        Assert.Equal(6.0, root.GetProperty("meanLayers").GetDouble());
        var latency = root.GetProperty("latencyMs");
        double p50 = latency.GetProperty("p50").GetDouble(), p90 = latency.GetProperty("p90").GetDouble(), p99 = latency.GetProperty("p99").GetDouble();
        Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99, $"{p50} {p90} {p99}");
        Assert.True(root.GetProperty("gflops").GetDouble() > 0);
        Assert.True(root.GetProperty("fmaPeakGflops").GetDouble() > 0);
    }
}
