using System.Buffers;
using System.Globalization;
using System.Text;
using NativeEE.Tokenization;
using FastTokenizer = FastBertTokenizer.BertTokenizer;

namespace NativeEE;

/// <summary>
/// BERT WordPiece tokenization with Hugging Face's ids: <c>[CLS] … [SEP]</c>, truncated to <see cref="MaxTokens"/>
/// keeping both specials, token type ids all 0 (not produced). Built on FastBertTokenizer, plus the rules where it
/// differs from Hugging Face's BertTokenizer:
/// <list type="bullet">
/// <item>a word longer than 100 characters becomes <c>[UNK]</c> (HF's max_input_chars_per_word);</item>
/// <item>accents are stripped from a table made from Unicode data, not with <c>string.Normalize</c>, which
///   does nothing in AOT / InvariantGlobalization apps (so "café" would become [UNK]);</item>
/// <item>control, format and private-use characters are removed before splitting, as HF's _clean_text does;</item>
/// <item>special tokens written literally in the text ([CLS], [SEP], [PAD], [UNK], [MASK]) map to their ids,
///   as HF's special-token splitting does (FastBertTokenizer gives [UNK] for all but [UNK]);</item>
/// <item>truncation never keeps a partial word that HF would have mapped to [UNK] as a whole.</item>
/// </list>
/// Plain text (the common case) goes straight to FastBertTokenizer; only text that needs one of these rules is
/// rewritten first. Thread-safe: the instance is immutable, FastBertTokenizer's span overload writes no shared
/// state (checked in its IL and by a concurrency test), and scratch comes from <see cref="ArrayPool{T}"/>.
/// </summary>
public sealed class WordPieceTokenizer
{
    /// <summary>HF's max_input_chars_per_word: longer words become [UNK].</summary>
    public const int MaxWordChars = 100;

    /// <summary>Limit used when neither the caller nor tokenizer_config.json gives one (BERT's position count).</summary>
    public const int DefaultMaxTokens = 512;

    // Room past the limit so that every word starting inside the limit is tokenized whole (a word of ≤ 100
    // characters gives ≤ 100 pieces; doubled for surrogate pairs).
    const int WordSlack = 2 * MaxWordChars + 2;

    readonly FastTokenizer _fast;
    readonly bool _stripAccents;

    // Special tokens written in the text map to their ids (HF splits them out before anything else);
    // FastBertTokenizer recognises them but emits [UNK]. Longest first, for leftmost-longest matching.
    readonly (string Text, int Id)[] _literals;
    readonly string _literalFirstChars;
    readonly bool[] _asciiLiteralStarts;

    public int MaxTokens { get; }
    public int ClsId { get; }
    public int SepId { get; }
    public int PadId { get; }
    public int UnkId { get; }

    /// <summary>Id of the mask token, or -1 when the vocabulary has none.</summary>
    public int MaskId { get; }

    /// <summary>Number of lines (ids) in vocab.txt.</summary>
    public int VocabSize { get; }

    public bool LowerCase { get; }
    public bool StripAccents => _stripAccents;

    WordPieceTokenizer(FastTokenizer fast, TokenizerSettings settings, int maxTokens, int cls, int sep, int pad, int unk, int mask, int vocabSize)
    {
        _fast = fast;
        _stripAccents = settings.StripAccents;
        var literals = new List<(string Text, int Id)>
            { (settings.ClsToken, cls), (settings.SepToken, sep), (settings.PadToken, pad), (settings.UnkToken, unk) };
        if (mask >= 0) literals.Add((settings.MaskToken, mask));
        _literals = [.. literals.DistinctBy(l => l.Text).OrderByDescending(l => l.Text.Length)];
        _literalFirstChars = new string(_literals.Select(l => l.Text[0]).Distinct().ToArray());
        _asciiLiteralStarts = new bool[0x80];
        foreach (char c in _literalFirstChars) if (c < 0x80) _asciiLiteralStarts[c] = true;
        LowerCase = settings.LowerCase;
        MaxTokens = maxTokens;
        ClsId = cls;
        SepId = sep;
        PadId = pad;
        UnkId = unk;
        MaskId = mask;
        VocabSize = vocabSize;
    }

    /// <summary>
    /// Loads <c>vocab.txt</c> and (if present) <c>tokenizer_config.json</c> (do_lower_case, strip_accents,
    /// model_max_length, special tokens) from <paramref name="modelDir"/>. <see cref="MaxTokens"/> = the smaller of
    /// model_max_length and <paramref name="maxTokens"/> (the engine passes max_position_embeddings), or
    /// <see cref="DefaultMaxTokens"/> when neither is given.
    /// </summary>
    public static WordPieceTokenizer Load(string modelDir, int? maxTokens = null)
    {
        if (maxTokens is < 2)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "maxTokens must be ≥ 2 ([CLS] and [SEP] alone take two).");
        var settings = TokenizerSettings.Load(Path.Combine(modelDir, "tokenizer_config.json"));
        string vocabPath = Path.Combine(modelDir, "vocab.txt");
        string vocab;
        try
        {
            vocab = File.ReadAllText(vocabPath, Encoding.UTF8);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelConfigException(vocabPath, null, "file not found (a BERT model folder needs its WordPiece vocabulary)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelConfigException(vocabPath, null, $"cannot be read: {e.Message}", e);
        }

        var ids = SpecialIds(vocab, settings, out int vocabSize);
        int Require(string token, string field) => ids.TryGetValue(token, out int id) ? id
            : throw new ModelConfigException(vocabPath, null, $"does not contain the {field} \"{token}\" (tokenizer_config.json can name another)");
        int cls = Require(settings.ClsToken, "cls_token"), sep = Require(settings.SepToken, "sep_token");
        int pad = Require(settings.PadToken, "pad_token"), unk = Require(settings.UnkToken, "unk_token");
        int mask = ids.TryGetValue(settings.MaskToken, out int m) ? m : -1;

        var fast = new FastTokenizer();
        using (var reader = new StringReader(vocab))
            fast.LoadVocabulary(reader, settings.LowerCase, settings.UnkToken, settings.ClsToken, settings.SepToken, settings.PadToken);

        int limit = Math.Min(settings.ModelMaxLength ?? int.MaxValue, maxTokens ?? int.MaxValue);
        if (limit == int.MaxValue) limit = DefaultMaxTokens;
        return new WordPieceTokenizer(fast, settings, limit, cls, sep, pad, unk, mask, vocabSize);
    }

    /// <summary>
    /// The ids (line numbers) of the special tokens, and the vocabulary size. Scans the lines as spans: a cold start
    /// loads one model, and allocating a string per vocabulary line here cost as much as the GEMM weights' mapping.
    /// </summary>
    static Dictionary<string, int> SpecialIds(string vocab, TokenizerSettings s, out int lines)
    {
        string[] wanted = [s.ClsToken, s.SepToken, s.PadToken, s.UnkToken, s.MaskToken];
        var found = new Dictionary<string, int>(StringComparer.Ordinal);
        lines = 0;
        // Line breaks as StringReader.ReadLine (and so FastBertTokenizer) splits them: \n, \r\n or \r; no line after a final break.
        var rest = vocab.AsSpan();
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOfAny('\r', '\n');
            var line = end < 0 ? rest : rest[..end];
            foreach (string token in wanted)
                if (line.SequenceEqual(token)) found.TryAdd(token, lines);
            lines++;
            if (end < 0) break;
            rest = rest[(rest[end] == '\r' && end + 1 < rest.Length && rest[end + 1] == '\n' ? end + 2 : end + 1)..];
        }
        return found;
    }

    /// <summary>
    /// text → ids[n] = [CLS] pieces… [SEP] with n ≤ min(MaxTokens, ids.Length); returns n. <paramref name="truncated"/>
    /// says whether pieces were dropped to fit. Thread-safe. Plain text allocates nothing; text that needs
    /// rewriting (accents, control characters, a word over 100 characters, a literal special token) allocates its
    /// rewritten segments.
    /// </summary>
    public int Encode(string text, Span<int> ids, out bool truncated)
    {
        ArgumentNullException.ThrowIfNull(text);
        int limit = Math.Min(MaxTokens, ids.Length);
        if (limit < 2) throw new ArgumentException($"ids must hold at least 2 ids ([CLS] and [SEP]); it holds {ids.Length}.", nameof(ids));
        ids = ids[..limit];
        return NeedsRewrite(text) ? EncodeRewritten(text, ids, out truncated) : EncodeDirect(text, ids, out truncated);
    }

    int EncodeDirect(string text, Span<int> ids, out bool truncated)
    {
        int capacity = ids.Length + WordSlack;
        long[] pieces = ArrayPool<long>.Shared.Rent(capacity);
        long[] mask = ArrayPool<long>.Shared.Rent(capacity);
        try
        {
            int n = _fast.Encode(text, pieces.AsSpan(0, capacity), mask.AsSpan(0, capacity));
            // pieces = [CLS] content… [SEP]
            return Assemble(pieces.AsSpan(1, n - 2), ids, out truncated);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(mask);
            ArrayPool<long>.Shared.Return(pieces);
        }
    }

    /// <summary>content[k] → ids = [CLS] content[..limit−2] [SEP]; returns the count.</summary>
    int Assemble(ReadOnlySpan<long> content, Span<int> ids, out bool truncated)
    {
        int keep = Math.Min(content.Length, ids.Length - 2);
        truncated = keep < content.Length;
        ids[0] = ClsId;
        for (int i = 0; i < keep; i++) ids[i + 1] = (int)content[i];
        ids[keep + 1] = SepId;
        return keep + 2;
    }

    /// <summary>True when FastBertTokenizer alone would not give HF's ids for <paramref name="text"/>.</summary>
    bool NeedsRewrite(string text)
    {
        Span<char> folded = stackalloc char[AccentFolding.MaxFoldedLength];
        var ascii = AsciiKinds;
        int wordChars = 0;
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (c < 0x80)
            {
                // Most text is ASCII: one table lookup per char, no rune decoding.
                var kind = (CharKind)ascii[c];
                if (kind == CharKind.Removed) return true;
                if (_asciiLiteralStarts[c] && LiteralAt(text.AsSpan(i)) >= 0) return true;
                if (kind != CharKind.Word) wordChars = 0;
                else if (++wordChars > MaxWordChars) return true;
                i++;
                continue;
            }
            if (_literalFirstChars.Contains(c) && LiteralAt(text.AsSpan(i)) >= 0) return true;
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune r, out int used);
            i += used;
            var k = Classify(r);
            if (k == CharKind.Removed) return true;
            if (_stripAccents && AccentFolding.Fold(r.Value, folded) >= 0) return true;
            if (k != CharKind.Word) wordChars = 0;
            else if (++wordChars > MaxWordChars) return true;
        }
        return false;
    }

    /// <summary>HF's rules applied to the text first: characters cleaned and accent-folded, words over 100 characters
    /// and literal special tokens turned into ids; the text between them goes through FastBertTokenizer.</summary>
    internal int EncodeRewritten(string text, Span<int> ids, out bool truncated)
    {
        int budget = ids.Length - 1; // content pieces beyond ids.Length − 2 only tell us we truncated
        var content = new List<long>();
        var segment = new StringBuilder();
        var word = new StringBuilder();
        int wordChars = 0;
        Span<char> folded = stackalloc char[AccentFolding.MaxFoldedLength];

        void EndWord()
        {
            if (wordChars > MaxWordChars) { EncodeSegment(segment, content, budget); content.Add(UnkId); }
            else segment.Append(word);
            word.Clear();
            wordChars = 0;
        }

        for (int i = 0; i < text.Length && content.Count < budget;)
        {
            int literal = _literalFirstChars.Contains(text[i]) ? LiteralAt(text.AsSpan(i)) : -1;
            if (literal >= 0)
            {
                EndWord();
                EncodeSegment(segment, content, budget);
                content.Add(_literals[literal].Id);
                i += _literals[literal].Text.Length;
                continue;
            }
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune r, out int used);
            i += used;
            var kind = Classify(r);
            if (kind == CharKind.Removed) continue;
            int n = _stripAccents ? AccentFolding.Fold(r.Value, folded) : -1;
            if (kind == CharKind.Word)
            {
                if (n >= 0) { word.Append(folded[..n]); wordChars += CodePoints(folded[..n]); }
                else { AppendRune(word, r); wordChars++; }
            }
            else
            {
                EndWord();
                if (kind == CharKind.Whitespace) segment.Append(' ');
                else if (n >= 0) segment.Append(folded[..n]);
                else AppendRune(segment, r);
            }
        }
        EndWord();
        EncodeSegment(segment, content, budget);
        return Assemble(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(content), ids, out truncated);
    }

    /// <summary>Index in _literals of the special token that <paramref name="text"/> starts with, or -1.</summary>
    int LiteralAt(ReadOnlySpan<char> text)
    {
        for (int k = 0; k < _literals.Length; k++)
            if (text.StartsWith(_literals[k].Text, StringComparison.Ordinal)) return k;
        return -1;
    }

    void EncodeSegment(StringBuilder segment, List<long> content, int budget)
    {
        if (segment.Length == 0 || content.Count >= budget) { segment.Clear(); return; }
        int capacity = budget - content.Count + WordSlack;
        long[] pieces = ArrayPool<long>.Shared.Rent(capacity);
        long[] mask = ArrayPool<long>.Shared.Rent(capacity);
        try
        {
            int n = _fast.Encode(segment.ToString(), pieces.AsSpan(0, capacity), mask.AsSpan(0, capacity));
            for (int i = 1; i < n - 1; i++) content.Add(pieces[i]);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(mask);
            ArrayPool<long>.Shared.Return(pieces);
        }
        segment.Clear();
    }

    static void AppendRune(StringBuilder sb, Rune r)
    {
        Span<char> utf16 = stackalloc char[2];
        sb.Append(utf16[..r.EncodeToUtf16(utf16)]);
    }

    static int CodePoints(ReadOnlySpan<char> s)
    {
        int n = 0;
        foreach (char c in s) if (!char.IsLowSurrogate(c)) n++;
        return n;
    }

    enum CharKind : byte { Word, Whitespace, Punctuation, Removed }

    static readonly byte[] AsciiKinds = BuildAsciiKinds();

    static byte[] BuildAsciiKinds()
    {
        var kinds = new byte[0x80];
        for (int c = 0; c < kinds.Length; c++) kinds[c] = (byte)Classify(new Rune(c));
        return kinds;
    }

    /// <summary>
    /// HF BasicTokenizer's classes: whitespace (ASCII space/tab/newline/return, and categories Zs, Zl, Zp) splits;
    /// punctuation (ASCII symbols and category P*) and CJK ideographs stand alone; control, format, surrogate,
    /// private-use and unassigned characters and U+FFFD are removed (invalid UTF-16 decodes to U+FFFD).
    /// </summary>
    static CharKind Classify(Rune r)
    {
        int v = r.Value;
        if (v < 0x80)
        {
            if (v is ' ' or '\t' or '\n' or '\r') return CharKind.Whitespace;
            if (v < 0x20 || v == 0x7F) return CharKind.Removed;
            if (v is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126)) return CharKind.Punctuation;
            return CharKind.Word;
        }
        if (v == 0xFFFD) return CharKind.Removed;
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned:
                return CharKind.Removed;
            case UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator:
                return CharKind.Whitespace;
            case UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation:
                return CharKind.Punctuation;
        }
        return IsCjkIdeograph(v) ? CharKind.Punctuation : CharKind.Word;
    }

    /// <summary>The CJK Unified Ideographs blocks BERT splits into single characters (HF's _is_chinese_char).</summary>
    static bool IsCjkIdeograph(int v) =>
        v is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
          or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
          or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
