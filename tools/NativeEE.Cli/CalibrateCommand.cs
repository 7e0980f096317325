using System.CommandLine;

namespace NativeEE.Cli;

internal static class CalibrateCommand
{
    public static (Command, string[]) Create(CliContext context) => (new Command("calibrate"), []);
}
