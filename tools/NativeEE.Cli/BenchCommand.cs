using System.CommandLine;

namespace NativeEE.Cli;

internal static class BenchCommand
{
    public static (Command, string[]) Create(CliContext context) => (new Command("bench"), []);
}
