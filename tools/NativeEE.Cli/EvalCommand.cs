using System.CommandLine;

namespace NativeEE.Cli;

internal static class EvalCommand
{
    public static (Command, string[]) Create(CliContext context) => (new Command("eval"), []);
}
