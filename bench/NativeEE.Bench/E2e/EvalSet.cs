using System.Globalization;

namespace NativeEE.Bench.E2e;

/// <summary>
/// Labelled sentences tokenized once by our tokenizer, cut into consecutive batches of a fixed size (the last may be
/// shorter). Both engines get the same token ids: NativeEE packed back to back, ONNX Runtime padded per batch.
/// </summary>
internal sealed class EvalSet
{
    EvalSet(string path, int[][] ids, int[] labels)
    {
        Path = path;
        Ids = ids;
        Labels = labels;
    }

    public string Path { get; }

    /// <summary>Token ids per sentence, [CLS] … [SEP].</summary>
    public int[][] Ids { get; }

    public int[] Labels { get; }

    public int Count => Ids.Length;

    /// <summary>TSV with a header and columns sentence, label (0/1) → tokenized set of at most <paramref name="max"/> sentences.</summary>
    public static EvalSet Load(string path, EarlyExitModel model, int max)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Eval sentences not found: {path}", path);
        var ids = new List<int[]>();
        var labels = new List<int>();
        var buffer = new int[model.MaxTokens];
        int line = 0;
        foreach (string row in File.ReadLines(path))
        {
            if (line++ == 0) continue;
            if (row.Length == 0) continue;
            if (ids.Count == max) break;
            int tab = row.LastIndexOf('\t');
            if (tab < 0 || !int.TryParse(row.AsSpan(tab + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int label))
                throw new FormatException($"{path}:{line}: expected 'sentence<TAB>label' with an integer label.");
            int n = model.Tokenize(row[..tab], buffer, out _);
            ids.Add(buffer[..n]);
            labels.Add(label);
        }
        if (ids.Count == 0) throw new FormatException($"{path} holds no sentences.");
        return new EvalSet(path, [.. ids], [.. labels]);
    }

    /// <summary>Sum over sentences of a per-sentence quantity of its token count (e.g. FLOPs).</summary>
    public double Sum(Func<int, double> perSentence)
    {
        double total = 0;
        foreach (var s in Ids) total += perSentence(s.Length);
        return total;
    }

    public double MedianTokens()
    {
        var lengths = Ids.Select(s => (double)s.Length).ToArray();
        return Stats.Quantile(lengths, 0.5);
    }

    /// <summary>
    /// Compares our token ids with the reference file (<c>file&lt;TAB&gt;row&lt;TAB&gt;ids</c>) for the rows of this set;
    /// returns (rows compared, rows that differ).
    /// </summary>
    public (int Compared, int Different) CheckAgainst(string tokenIdsTsv)
    {
        if (!File.Exists(tokenIdsTsv)) return (0, 0);
        string file = System.IO.Path.GetFileName(Path);
        int compared = 0, different = 0;
        foreach (string row in File.ReadLines(tokenIdsTsv).Skip(1))
        {
            var parts = row.Split('\t');
            if (parts.Length != 3 || parts[0] != file) continue;
            int r = int.Parse(parts[1], CultureInfo.InvariantCulture);
            if (r >= Count) continue;
            var expected = parts[2].Split(' ').Select(t => int.Parse(t, CultureInfo.InvariantCulture));
            compared++;
            if (!expected.SequenceEqual(Ids[r])) different++;
        }
        return (compared, different);
    }
}
