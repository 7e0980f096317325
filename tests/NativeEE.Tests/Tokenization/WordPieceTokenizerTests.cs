using System.Text;

namespace NativeEE.Tests.Tokenization;

public class WordPieceTokenizerTests
{
    static readonly Lazy<WordPieceTokenizer> Shared = new(() => WordPieceTokenizer.Load(SharedPaths.MiniLm, 512));
    static WordPieceTokenizer Tok => Shared.Value;

    static readonly System.Collections.Concurrent.ConcurrentDictionary<int, WordPieceTokenizer> ByLimit = new();
    static WordPieceTokenizer WithLimit(int maxTokens) => ByLimit.GetOrAdd(maxTokens, m => WordPieceTokenizer.Load(SharedPaths.MiniLm, m));

    static readonly Lazy<Dictionary<string, int>> Vocab = new(() =>
        File.ReadLines(Path.Combine(SharedPaths.MiniLm, "vocab.txt")).Select((t, i) => (t, i))
            .GroupBy(x => x.t).ToDictionary(g => g.Key, g => g.First().i));

    static int[] Encode(WordPieceTokenizer tok, string text, out bool truncated)
    {
        var ids = new int[tok.MaxTokens];
        int n = tok.Encode(text, ids, out truncated);
        return ids[..n];
    }

    static string Diff(int[] expected, int[] actual) => $"expected [{string.Join(' ', expected)}]\n  actual [{string.Join(' ', actual)}]";

    [Fact]
    public void EveryTestAndDevRowMatchesTheReferenceIds()
    {
        var rows = Sst2Rows.Rows;
        Assert.Equal(7607, rows.Length);
        var failures = new List<string>();
        foreach (var row in rows)
        {
            var ids = Encode(Tok, row.Text, out bool truncated);
            if (!ids.AsSpan().SequenceEqual(row.ExpectedIds)) failures.Add($"{row.File}:{row.Index} {Diff(row.ExpectedIds, ids)}");
            Assert.False(truncated);
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {rows.Length} rows differ; first: {string.Join("\n", failures.Take(3))}");
    }

    [Fact]
    public void RewritingPathGivesTheSameIdsOnEveryReferenceRow()
    {
        // The rare path (used for accents, control characters, long words, literal [MASK]) must agree with the
        // plain path wherever both apply, so run it on all rows, not only the few that need it.
        var ids = new int[Tok.MaxTokens];
        int mismatches = 0;
        foreach (var row in Sst2Rows.Rows)
        {
            int n = Tok.EncodeRewritten(row.Text, ids, out _);
            if (!ids.AsSpan(0, n).SequenceEqual(row.ExpectedIds)) mismatches++;
        }
        Assert.Equal(0, mismatches);
    }

    public static TheoryData<string> OddStringNames => new(OddStrings.Cases.Select(c => c.Name));

    [Theory, MemberData(nameof(OddStringNames))]
    public void OddStringsMatchTheIndependentOracle(string name)
    {
        var c = OddStrings.Get(name);
        var tok = WithLimit(c.MaxLen);
        var ids = Encode(tok, c.Text, out _);
        Assert.True(ids.AsSpan().SequenceEqual(c.ExpectedIds), Diff(c.ExpectedIds, ids));
        Assert.Equal(tok.ClsId, ids[0]);
        Assert.Equal(tok.SepId, ids[^1]);
        Assert.InRange(ids.Length, 2, c.MaxLen);
    }

    [Theory]
    [InlineData("long-text-truncated", true)]
    [InlineData("long-text-exact-fit", false)]
    [InlineData("long-text-one-over", true)]
    [InlineData("truncation-mid-word", true)]
    [InlineData("truncation-long-word-at-edge", true)]
    [InlineData("truncation-accents", true)]
    [InlineData("small-limit", true)]
    [InlineData("limit-3", true)]
    [InlineData("word-101-chars", false)]
    [InlineData("empty", false)]
    public void TruncatedFlagSaysWhetherPiecesWereDropped(string name, bool expected)
    {
        var c = OddStrings.Get(name);
        var tok = WithLimit(c.MaxLen);
        var ids = Encode(tok, c.Text, out bool truncated);
        Assert.Equal(expected, truncated);
        if (truncated) Assert.Equal(c.MaxLen, ids.Length);
    }

    [Fact]
    public void SymbolsAreKeptAsTheirOwnTokens()
    {
        string[] symbols = ["`", "$", "+", "=", "<", ">", "|", "~", "^", "°", "©"];
        var ids = Encode(Tok, string.Join(" ", symbols), out _);
        Assert.Equal(symbols.Select(s => Vocab.Value[s]), ids[1..^1]);
        // ASCII symbols count as punctuation even between letters; ° and © (category So) do not, so they are
        // left out here (OddStrings' "symbols-jammed" checks them against the oracle).
        string[] ascii = symbols[..^2];
        var jammed = Encode(Tok, "a" + string.Concat(ascii) + "b", out _);
        Assert.Equal(ascii.Select(s => Vocab.Value[s]), jammed[2..^2]);
    }

    [Fact]
    public void NewlinesTabsAndReturnsSeparateWords()
    {
        var ids = Encode(Tok, "good\nbad\tfine\rokay", out _);
        Assert.Equal(new[] { "good", "bad", "fine", "okay" }.Select(w => Vocab.Value[w]), ids[1..^1]);
    }

    [Fact]
    public void AWordOverOneHundredCharactersIsUnknown()
    {
        Assert.Equal([Tok.ClsId, Tok.UnkId, Tok.SepId], Encode(Tok, new string('a', 101), out _));
        var hundred = Encode(Tok, new string('a', 100), out _);
        Assert.DoesNotContain(Tok.UnkId, hundred);
        Assert.True(hundred.Length > 3);
    }

    [Fact]
    public void AccentsAreStrippedWhateverTheHostGlobalizationMode()
    {
        // The test host runs with InvariantGlobalization (as the AOT CLI does), where string.Normalize is a no-op.
        Assert.Equal(Encode(Tok, "cafe naive", out _), Encode(Tok, "Café naïve", out _));
        Assert.Equal(Encode(Tok, "cafe", out _), Encode(Tok, "cafe\u0301", out _));
    }

    [Fact]
    public void ShortIdSpanTruncatesFurther()
    {
        var ids = new int[5];
        int n = Tok.Encode("a gripping , funny film", ids, out bool truncated);
        Assert.Equal(5, n);
        Assert.True(truncated);
        Assert.Equal(Encode(Tok, "a gripping , funny film", out _)[..4], ids[..4]);
        Assert.Equal(Tok.SepId, ids[4]);
        Assert.Throws<ArgumentException>(() => Tok.Encode("x", new int[1], out _));
        Assert.Throws<ArgumentNullException>(() => Tok.Encode(null!, new int[8], out _));
    }

    [Fact]
    public void EncodingIsThreadSafe()
    {
        var rows = Sst2Rows.Rows;
        var odd = OddStrings.Cases.Where(c => c.MaxLen == 128).ToArray();
        int failures = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var ids = new int[Tok.MaxTokens];
            for (int k = 0; k < rows.Length; k++)
            {
                // Each worker walks the rows from a different start, mixing plain and rewritten inputs.
                var row = rows[(k + worker * 1901) % rows.Length];
                int n = Tok.Encode(row.Text, ids, out _);
                if (!ids.AsSpan(0, n).SequenceEqual(row.ExpectedIds)) Interlocked.Increment(ref failures);
                var c = odd[(k + worker) % odd.Length];
                n = Tok.Encode(c.Text, ids, out _);
                if (!ids.AsSpan(0, n).SequenceEqual(c.ExpectedIds)) Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void PlainTextAllocatesNothing()
    {
        // Printable ASCII without special-token literals takes the plain path (all but 47 of the 7,607 rows).
        var rows = Sst2Rows.Rows.Where(r => r.Text.All(c => c is >= ' ' and <= '~') && !r.Text.Contains('[')).Take(1000).ToArray();
        Assert.Equal(1000, rows.Length);
        var ids = new int[Tok.MaxTokens];
        foreach (var row in rows) Tok.Encode(row.Text, ids, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var row in rows) Tok.Encode(row.Text, ids, out _);
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / rows.Length;
        Assert.Equal(0, perCall);
    }

    [Fact]
    public void MaxTokensIsTheSmallerOfModelMaxLengthAndTheCallersLimit()
    {
        Assert.Equal(128, WordPieceTokenizer.Load(SharedPaths.MiniLm).MaxTokens);        // tokenizer_config.json
        Assert.Equal(128, WordPieceTokenizer.Load(SharedPaths.MiniLm, 512).MaxTokens);
        Assert.Equal(64, WordPieceTokenizer.Load(SharedPaths.MiniLm, 64).MaxTokens);
        Assert.Throws<ArgumentOutOfRangeException>(() => WordPieceTokenizer.Load(SharedPaths.MiniLm, 1));
    }

    [Fact]
    public void SpecialIdsComeFromTheVocabulary()
    {
        Assert.Equal(Vocab.Value["[CLS]"], Tok.ClsId);
        Assert.Equal(Vocab.Value["[SEP]"], Tok.SepId);
        Assert.Equal(Vocab.Value["[PAD]"], Tok.PadId);
        Assert.Equal(Vocab.Value["[UNK]"], Tok.UnkId);
        Assert.Equal(Vocab.Value["[MASK]"], Tok.MaskId);
        Assert.Equal(File.ReadLines(Path.Combine(SharedPaths.MiniLm, "vocab.txt")).Count(), Tok.VocabSize);
        Assert.True(Tok.LowerCase);
        Assert.True(Tok.StripAccents);
    }
}
