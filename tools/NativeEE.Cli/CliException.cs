namespace NativeEE.Cli;

/// <summary>A problem <c>nee</c> reports as one line and an exit code (no stack trace).</summary>
public sealed class CliException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>The arguments are wrong (exit code 2).</summary>
    public static CliException Usage(string message) => new(message, Cli.UsageError);

    /// <summary>A model or data file is wrong (exit code 1); the message names the file and the problem.</summary>
    public static CliException Input(string message) => new(message, Cli.Failure);
}
