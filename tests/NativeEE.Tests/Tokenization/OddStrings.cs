using System.Globalization;
using System.Text;

namespace NativeEE.Tests.Tokenization;

/// <summary>
/// OddStrings.tsv: name, max_len, text (escapes \\ \t \n \r \uXXXX, one UTF-16 unit each so lone surrogates
/// can be written), and the ids of hf_bert_oracle.py — an independent Python re-implementation of Hugging Face
/// BertTokenizer's rules that reproduces all 7,607 rows of reference/token_ids.tsv.
/// </summary>
internal static class OddStrings
{
    public sealed record Case(string Name, int MaxLen, string Text, int[] ExpectedIds);

    public static readonly Case[] Cases = Load();

    public static Case Get(string name) => Cases.Single(c => c.Name == name);

    static Case[] Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Tokenization", "OddStrings.tsv");
        return File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(line =>
        {
            var p = line.Split('\t');
            return new Case(p[0], int.Parse(p[1], CultureInfo.InvariantCulture), Unescape(p[2]),
                p[3].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray());
        }).ToArray();
    }

    static string Unescape(string s)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\') { sb.Append(s[i]); continue; }
            char c = s[++i];
            if (c == 'u') { sb.Append((char)int.Parse(s.AsSpan(i + 1, 4), NumberStyles.HexNumber)); i += 4; }
            else sb.Append(c switch { '\\' => '\\', 't' => '\t', 'n' => '\n', 'r' => '\r', _ => throw new FormatException($"bad escape \\{c}") });
        }
        return sb.ToString();
    }
}
