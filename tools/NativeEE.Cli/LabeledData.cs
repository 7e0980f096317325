using System.Globalization;
using System.Text;

namespace NativeEE.Cli;

/// <summary>
/// A labelled text file: TSV (tab-separated, no quoting, as GLUE ships it) or CSV (RFC 4180 quoting), with a
/// header row. The text and label columns are found by name (sentence/text/…, label/…) or given by name or
/// 0-based index; labels are class indices or label names.
/// </summary>
internal sealed class LabeledData
{
    static readonly string[] TextColumnNames = ["sentence", "text", "review", "content", "document", "sentence1"];
    static readonly string[] LabelColumnNames = ["label", "labels", "class", "target", "sentiment"];

    LabeledData(string path, string textColumn, string labelColumn, string[] texts, int[] labels)
    {
        Path = path;
        TextColumn = textColumn;
        LabelColumn = labelColumn;
        Texts = texts;
        Labels = labels;
    }

    /// <summary>The file as the user named it.</summary>
    public string Path { get; }
    public string TextColumn { get; }
    public string LabelColumn { get; }
    public string[] Texts { get; }
    public int[] Labels { get; }
    public int Count => Texts.Length;

    /// <summary>
    /// Reads at most <paramref name="limit"/> data rows of <paramref name="path"/>. Labels must be integers in
    /// [0, labelNames.Count) or one of <paramref name="labelNames"/> (case-insensitive).
    /// </summary>
    /// <exception cref="CliException">The file is missing, has no header or rows, or a row is malformed; the message names file and line.</exception>
    public static LabeledData Read(string path, string? textColumn, string? labelColumn, IReadOnlyList<string> labelNames, int? limit)
    {
        if (!File.Exists(path)) throw CliException.Input($"{path}: file not found");
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        string? headerLine = reader.ReadLine();
        if (headerLine is null) throw CliException.Input($"{path}: the file is empty (expected a header row, then one labelled text per row)");
        char delimiter = path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ','
            : headerLine.Contains('\t') || path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var records = new RecordReader(reader, delimiter, headerLine, path);
        var header = records.Next(out _)!;
        int textIndex = Column(path, header, textColumn, TextColumnNames, "text", -1);
        int labelIndex = Column(path, header, labelColumn, LabelColumnNames, "label", textIndex);
        if (textIndex == labelIndex)
            throw CliException.Usage($"the text and the label column of {path} are the same ('{header[textIndex]}')");

        var texts = new List<string>();
        var labels = new List<int>();
        while ((limit is null || texts.Count < limit) && records.Next(out int line) is { } fields)
        {
            if (fields.Count == 1 && fields[0].Length == 0) continue; // blank line
            int needed = Math.Max(textIndex, labelIndex) + 1;
            if (fields.Count < needed)
                throw CliException.Input($"{path} line {line}: {fields.Count} column{(fields.Count == 1 ? "" : "s")}, expected at least {needed} (header: {string.Join(", ", header)})");
            texts.Add(fields[textIndex]);
            labels.Add(Label(path, line, fields[labelIndex].Trim(), labelNames));
        }
        if (texts.Count == 0) throw CliException.Input($"{path}: no data rows after the header");
        return new LabeledData(path, header[textIndex], header[labelIndex], [.. texts], [.. labels]);
    }

    /// <summary>The rows at <paramref name="rows"/> (indices into this file's rows, in that order), same path and columns.</summary>
    public LabeledData Subset(IReadOnlyList<int> rows)
    {
        var texts = new string[rows.Count];
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            texts[i] = Texts[rows[i]];
            labels[i] = Labels[rows[i]];
        }
        return new LabeledData(Path, TextColumn, LabelColumn, texts, labels);
    }

    static int Column(string path, List<string> header, string? given, string[] knownNames, string what, int other)
    {
        if (given is not null)
        {
            int byName = header.FindIndex(h => string.Equals(h.Trim(), given, StringComparison.OrdinalIgnoreCase));
            if (byName >= 0) return byName;
            if (int.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < header.Count) return index;
            throw CliException.Usage($"--{what}-column '{given}' is neither a column of {path} ({string.Join(", ", header)}) nor an index below {header.Count}");
        }
        foreach (var name in knownNames)
        {
            int i = header.FindIndex(h => string.Equals(h.Trim(), name, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return i;
        }
        // Two columns and the other one is known: this one is the remaining column.
        if (header.Count == 2 && other >= 0) return 1 - other;
        throw CliException.Usage($"cannot tell which column of {path} holds the {what} (header: {string.Join(", ", header)}); pass --{what}-column NAME|INDEX");
    }

    static int Label(string path, int line, string value, IReadOnlyList<string> names)
    {
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index))
        {
            if (index >= 0 && index < names.Count) return index;
            throw CliException.Input($"{path} line {line}: label {index} is outside the model's {names.Count} classes (0…{names.Count - 1})");
        }
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], value, StringComparison.OrdinalIgnoreCase)) return i;
        throw CliException.Input($"{path} line {line}: label '{value}' is neither a class index nor a label name ({string.Join(", ", names)})");
    }

    /// <summary>Splits records: TSV fields end at tabs; CSV fields may be quoted ("" escapes a quote, newlines allowed inside).</summary>
    sealed class RecordReader(TextReader reader, char delimiter, string firstLine, string path)
    {
        string? _pending = firstLine;
        int _line;

        public List<string>? Next(out int line)
        {
            string? text = _pending ?? reader.ReadLine();
            _pending = null;
            line = ++_line;
            if (text is null) return null;
            var fields = new List<string>();
            if (delimiter == '\t')
            {
                fields.AddRange(text.Split('\t'));
                return fields;
            }
            var field = new StringBuilder();
            bool quoted = false;
            for (int i = 0; ; i++)
            {
                if (i == text.Length)
                {
                    if (!quoted) break;
                    // A quoted field runs on over the line break.
                    string? more = reader.ReadLine();
                    if (more is null) throw CliException.Input($"{path} line {line}: a quoted field is never closed");
                    _line++;
                    field.Append('\n');
                    text = more;
                    i = -1;
                    continue;
                }
                char ch = text[i];
                if (quoted)
                {
                    if (ch != '"') field.Append(ch);
                    else if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else if (ch == '"' && field.Length == 0) quoted = true;
                else if (ch == delimiter) { fields.Add(field.ToString()); field.Clear(); }
                else field.Append(ch);
            }
            fields.Add(field.ToString());
            return fields;
        }
    }
}
