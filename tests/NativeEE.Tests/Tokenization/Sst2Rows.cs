namespace NativeEE.Tests.Tokenization;

/// <summary>SST-2 sentences and the reference token ids (reference/token_ids.tsv), read in place from ../shared.</summary>
internal static class Sst2Rows
{
    public sealed record Row(string File, int Index, string Text, int[] ExpectedIds);

    static readonly Lazy<Row[]> All = new(Load);

    public static Row[] Rows => All.Value;

    static Row[] Load()
    {
        var expected = new Dictionary<(string, int), int[]>();
        foreach (string line in File.ReadLines(Path.Combine(SharedPaths.MiniLm, "reference", "token_ids.tsv")).Skip(1))
        {
            var parts = line.Split('\t');
            expected[(parts[0], int.Parse(parts[1]))] = parts[2].Split(' ').Select(int.Parse).ToArray();
        }
        var rows = new List<Row>();
        foreach (string file in new[] { "test.tsv", "dev.tsv" })
        {
            int index = 0;
            foreach (string line in File.ReadLines(SharedPaths.Sst2(file)).Skip(1))
            {
                string text = line[..line.LastIndexOf('\t')];
                if (!expected.TryGetValue((file, index), out var ids))
                    throw new InvalidDataException($"token_ids.tsv has no row for {file} row {index}");
                rows.Add(new Row(file, index, text, ids));
                index++;
            }
        }
        if (rows.Count != expected.Count)
            throw new InvalidDataException($"{rows.Count} data rows but {expected.Count} reference rows");
        return [.. rows];
    }
}
