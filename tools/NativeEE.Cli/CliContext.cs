using System.CommandLine;

namespace NativeEE.Cli;

/// <summary>What every command of one <c>nee</c> run shares: the console, Ctrl-C and <c>--verbose</c>.</summary>
internal sealed class CliContext(CliConsole console, CancellationToken cancellationToken)
{
    public CliConsole Console { get; } = console;
    public CancellationToken CancellationToken { get; } = cancellationToken;
    public bool Verbose { get; set; }

    /// <summary>--weight-cache DIR, or null for the per-user default.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>--no-weight-cache: pack the weights in memory, read and write no cache file.</summary>
    public bool NoCache { get; set; }

    public Option<bool> VerboseOption { get; } = new("--verbose")
    {
        Description = "Show stack traces with error messages.",
        Recursive = true,
    };

    public Option<string?> CacheOption { get; } = new("--weight-cache")
    {
        Description = "Folder for the packed-weight cache (packed once per model and CPU, then memory-mapped by later runs). Default: $XDG_CACHE_HOME/nativeee or ~/.cache/nativeee.",
        HelpName = "DIR",
        Recursive = true,
    };

    public Option<bool> NoCacheOption { get; } = new("--no-weight-cache")
    {
        Description = "Pack the weights in memory on every run; read and write no cache file.",
        Recursive = true,
    };
}
