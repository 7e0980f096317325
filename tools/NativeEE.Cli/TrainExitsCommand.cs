using System.CommandLine;

namespace NativeEE.Cli;

internal static class TrainExitsCommand
{
    public static (Command, string[]) Create(CliContext context) => (new Command("train-exits"), []);
}
