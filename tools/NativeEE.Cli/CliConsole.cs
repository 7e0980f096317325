using Spectre.Console;

namespace NativeEE.Cli;

/// <summary>
/// Where <c>nee</c> reads and writes: results to <see cref="Out"/>, progress and errors to <see cref="Error"/>
/// (so <c>--json</c> output stays one clean document), texts from <see cref="Input"/> when it is piped.
/// </summary>
public sealed class CliConsole
{
    /// <summary>Writers that are not terminals (tests, pipes); <paramref name="input"/> null means no piped standard input.</summary>
    public CliConsole(TextWriter output, TextWriter error, TextReader? input = null)
    {
        Out = output ?? throw new ArgumentNullException(nameof(output));
        Error = error ?? throw new ArgumentNullException(nameof(error));
        Input = input;
    }

    /// <summary>The process's own console: standard input counts only when redirected, terminals are detected.</summary>
    public static CliConsole FromProcess() => new(Console.Out, Console.Error, Console.IsInputRedirected ? Console.In : null)
    {
        OutIsTerminal = !Console.IsOutputRedirected,
        ErrorIsTerminal = !Console.IsErrorRedirected,
    };

    public TextWriter Out { get; }
    public TextWriter Error { get; }

    /// <summary>Piped standard input (one text per line for <c>classify</c>), or null.</summary>
    public TextReader? Input { get; }

    public bool OutIsTerminal { get; init; }
    public bool ErrorIsTerminal { get; init; }

    /// <summary>A Spectre console for tables on <see cref="Out"/>: colours and live widgets only on a terminal.</summary>
    internal IAnsiConsole CreateOutConsole() => Create(Out, OutIsTerminal);

    /// <summary>A Spectre console for progress bars on <see cref="Error"/>.</summary>
    internal IAnsiConsole CreateErrorConsole() => Create(Error, ErrorIsTerminal);

    static IAnsiConsole Create(TextWriter writer, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Redirected output has no width; wide tables must not wrap into an unreadable file.
        if (!terminal) console.Profile.Width = 160;
        return console;
    }
}

/// <summary>Plain lines straight to standard output, tables through Spectre (same writer, so order is kept).</summary>
internal sealed class Report(CliConsole console)
{
    readonly IAnsiConsole _tables = console.CreateOutConsole();

    public void WriteLine(string line) => console.Out.WriteLine(line);

    public void Table(Table table) => _tables.Write(table);
}

internal static class TableExtensions
{
    /// <summary>Adds a row of literal text (cells are not Spectre markup, so "[384, 384]" stays as it is).</summary>
    public static Table AddTextRow(this Table table, params string[] cells)
    {
        var row = new Spectre.Console.Rendering.IRenderable[cells.Length];
        for (int i = 0; i < cells.Length; i++) row[i] = new Text(cells[i]);
        return table.AddRow(row);
    }
}
