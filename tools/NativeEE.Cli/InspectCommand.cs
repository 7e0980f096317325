using System.CommandLine;

namespace NativeEE.Cli;

internal static class InspectCommand
{
    public static (Command, string[]) Create(CliContext context) => (new Command("inspect"), []);
}
