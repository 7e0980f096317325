namespace NativeEE.Cli.Tests;

public class CliExceptionTests
{
    [Fact]
    public void UsageIsExitCode2AndInputIs1()
    {
        Assert.Equal(Cli.UsageError, CliException.Usage("u").ExitCode);
        Assert.Equal(Cli.Failure, CliException.Input("i").ExitCode);
        Assert.Equal("i", CliException.Input("i").Message);
    }
}
