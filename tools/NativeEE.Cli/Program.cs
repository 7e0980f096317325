using NativeEE.Cli;

// Ctrl-C cancels the running command through its token (the engine checks it before every layer); a second
// Ctrl-C falls through to the default handler and ends the process at once.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancel.IsCancellationRequested) return;
    e.Cancel = true;
    cancel.Cancel();
};
return Cli.Run(args, CliConsole.FromProcess(), cancel.Token);
