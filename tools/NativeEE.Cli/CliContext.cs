using System.CommandLine;

namespace NativeEE.Cli;

/// <summary>What every command of one <c>nee</c> run shares: the console, Ctrl-C and <c>--verbose</c>.</summary>
internal sealed class CliContext(CliConsole console, CancellationToken cancellationToken)
{
    public CliConsole Console { get; } = console;
    public CancellationToken CancellationToken { get; } = cancellationToken;
    public bool Verbose { get; set; }

    public Option<bool> VerboseOption { get; } = new("--verbose")
    {
        Description = "Show stack traces with error messages.",
        Recursive = true,
    };
}
