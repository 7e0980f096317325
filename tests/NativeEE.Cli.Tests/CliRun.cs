using NativeEE.Tests;

namespace NativeEE.Cli.Tests;

/// <summary>One in-process <c>nee</c> run: exit code and what it wrote.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static string Model => SharedPaths.MiniLm;
    public static string TestTsv => SharedPaths.Sst2("test.tsv");
    public static string DevTsv => SharedPaths.Sst2("dev.tsv");

    /// <summary>Runs <c>nee</c> with <paramref name="args"/>; <paramref name="stdin"/> is piped standard input (null: none).</summary>
    public static CliRun Of(string[] args, string? stdin = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new CliConsole(output, error, stdin is null ? null : new StringReader(stdin));
        int code = Cli.Run(args, console, TestContext.Current.CancellationToken);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public static CliRun Of(params string[] args) => Of(args, null);

    /// <summary>The error output's non-empty lines (progress lines excluded: they end in "s)").</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- out ---\n{Out}\n--- err ---\n{Error}";
}
