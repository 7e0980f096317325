namespace NativeEE.Cli.Tests;

public class CliConsoleTests
{
    [Fact]
    public void WritersAreNotTerminalsAndInputIsOptional()
    {
        var console = new CliConsole(new StringWriter(), new StringWriter());
        Assert.False(console.OutIsTerminal);
        Assert.False(console.ErrorIsTerminal);
        Assert.Null(console.Input);
        Assert.Throws<ArgumentNullException>(() => new CliConsole(null!, new StringWriter()));
    }

    [Fact]
    public void ClassifyWithoutTextOrInputIsAUsageError()
    {
        var run = CliRun.Of("classify", "--model", CliRun.Model);
        Assert.Equal(Cli.UsageError, run.ExitCode);
        Assert.Contains("standard input", run.Error);
    }
}
