using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using NativeEE.Safetensors;

namespace NativeEE.Cli;

/// <summary>
/// The <c>nee</c> command line, callable in-process: parsing, help with examples, and the exit-code contract —
/// 0 success, 1 bad model/data (one line naming the file and the problem), 2 bad arguments (one line),
/// 130 cancelled. Stack traces only with <c>--verbose</c>.
/// </summary>
public static class Cli
{
    public const int Success = 0, Failure = 1, UsageError = 2, Cancelled = 130;

    /// <summary>Runs <c>nee</c> with <paramref name="args"/>, writing to the given writers; no standard input.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
        => Run(args, new CliConsole(output, error), CancellationToken.None);

    /// <summary>Runs <c>nee</c> with <paramref name="args"/> on <paramref name="console"/>; <paramref name="cancellationToken"/> is Ctrl-C.</summary>
    public static int Run(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        var context = new CliContext(console, cancellationToken);
        var root = BuildRoot(context);
        // No response files: a sentence starting with '@' is text to classify, not a file of arguments.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        context.Verbose = parse.GetValue(context.VerboseOption);
        context.CacheDirectory = parse.GetValue(context.CacheOption);
        context.NoCache = parse.GetValue(context.NoCacheOption);
        if (parse.Action is ParseErrorAction)
        {
            string command = parse.CommandResult.Command is RootCommand ? "nee" : "nee " + parse.CommandResult.Command.Name;
            var messages = parse.Errors.Select(e => e.Message.TrimEnd('.'));
            console.Error.WriteLine($"nee: {OneLine(string.Join("; ", messages))}. Try '{command} --help'.");
            return UsageError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // Ctrl-C arrives through cancellationToken
            });
        }
        catch (Exception e)
        {
            return Report(e, context);
        }
        finally
        {
            console.Out.Flush();
        }
    }

    static int Report(Exception e, CliContext context)
    {
        var error = context.Console.Error;
        int code;
        string message;
        switch (e)
        {
            case CliException c:
                (code, message) = (c.ExitCode, c.Message);
                break;
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                (code, message) = (Cancelled, "cancelled");
                break;
            // The engine's refusals (bad files, tensors, token ids, a policy the model cannot run) name the file
            // or value and the rule: that one line is what the user needs.
            case ModelLoadException or ModelConfigException or SafetensorsException or IOException
                or UnauthorizedAccessException or InvalidDataException or ArgumentException or InvalidOperationException:
                (code, message) = (Failure, e.Message);
                break;
            default:
                (code, message) = (Failure, $"unexpected {e.GetType().Name}: {e.Message}{(context.Verbose ? "" : " (run with --verbose for details)")}");
                break;
        }
        error.WriteLine($"nee: {OneLine(message)}");
        if (context.Verbose) error.WriteLine(e.ToString());
        return code;
    }

    /// <summary>Messages may carry line breaks (inner details, parameter names); users get one line.</summary>
    internal static string OneLine(string message)
    {
        var parts = message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" ", parts);
    }

    static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand("nee — NativeEE: BERT-family classifiers with per-sample early exit, natively compiled.");
        root.Options.Add(context.VerboseOption);
        root.Options.Add(context.CacheOption);
        root.Options.Add(context.NoCacheOption);
        var examples = new Dictionary<Command, string[]>
        {
            [root] =
            [
                "nee classify \"a gripping, funny film\"",
                "nee eval --data ../shared/data/sst2/test.tsv --policy entropy:0.3",
                "nee inspect ../shared/models/minilm-sst2-ee",
            ],
        };
        foreach (var (command, lines) in new[]
        {
            ClassifyCommand.Create(context), EvalCommand.Create(context), TrainExitsCommand.Create(context),
            CalibrateCommand.Create(context), BenchCommand.Create(context), InspectCommand.Create(context),
        })
        {
            root.Subcommands.Add(command);
            examples[command] = lines;
        }
        foreach (var option in root.Options)
            if (option is HelpOption help && help.Action is HelpAction inner)
                help.Action = new HelpWithExamples(inner, examples);
        return root;
    }

    /// <summary>The standard help, then an "Examples:" section for the command asked about.</summary>
    sealed class HelpWithExamples(HelpAction inner, Dictionary<Command, string[]> examples) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            inner.Invoke(parseResult);
            if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine("Examples:");
                foreach (var line in lines) output.WriteLine("  " + line);
                output.WriteLine();
            }
            return Success;
        }
    }
}
