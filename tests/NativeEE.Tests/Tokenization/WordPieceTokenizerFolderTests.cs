namespace NativeEE.Tests.Tokenization;

/// <summary>Small hand-made model folders: defaults, cased vocabularies, and broken files.</summary>
public sealed class WordPieceTokenizerFolderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("nativeee-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] TinyVocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello", "hello", "world", "##s", "!", "cafe", "café"];

    void Write(string[]? vocab = null, string? tokenizerConfig = null)
    {
        File.WriteAllLines(Path.Combine(_dir, "vocab.txt"), vocab ?? TinyVocab);
        if (tokenizerConfig is not null) File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), tokenizerConfig);
    }

    static int[] Encode(WordPieceTokenizer tok, string text)
    {
        var ids = new int[tok.MaxTokens];
        return ids[..tok.Encode(text, ids, out _)];
    }

    [Fact]
    public void WithoutTokenizerConfigTheDefaultsAreUncasedAndTheCallersLimit()
    {
        Write();
        var tok = WordPieceTokenizer.Load(_dir, 16);
        Assert.Equal(16, tok.MaxTokens);
        Assert.Equal(WordPieceTokenizer.DefaultMaxTokens, WordPieceTokenizer.Load(_dir).MaxTokens);
        Assert.Equal([2, 6, 7, 8, 9, 3], Encode(tok, "HELLO Worlds!"));
        Assert.Equal([2, 10, 3], Encode(tok, "Café"));   // stripped: "cafe", never "café"
    }

    [Fact]
    public void CasedVocabularyKeepsCaseAndAccents()
    {
        Write(tokenizerConfig: """{"do_lower_case": false, "model_max_length": 32}""");
        var tok = WordPieceTokenizer.Load(_dir, 512);
        Assert.Equal(32, tok.MaxTokens);
        Assert.False(tok.LowerCase);
        Assert.False(tok.StripAccents);
        Assert.Equal([2, 5, 6, 1, 3], Encode(tok, "Hello hello HELLO"));
    }

    [Fact]
    public void StripAccentsFalseKeepsAccentsOfAnUncasedVocabulary()
    {
        Write(tokenizerConfig: """{"do_lower_case": true, "strip_accents": false}""");
        var tok = WordPieceTokenizer.Load(_dir);
        Assert.False(tok.StripAccents);
        Assert.Equal([2, 10, 3], Encode(tok, "cafe"));
    }

    [Fact]
    public void SpecialTokensCanBeRenamedInEitherForm()
    {
        Write(["<pad>", "<unk>", "<s>", "</s>", "hello"],
            """{"unk_token": "<unk>", "cls_token": {"content": "<s>", "lstrip": false}, "sep_token": "</s>", "pad_token": "<pad>"}""");
        var tok = WordPieceTokenizer.Load(_dir);
        Assert.Equal((2, 3, 0, 1, -1), (tok.ClsId, tok.SepId, tok.PadId, tok.UnkId, tok.MaskId));
        Assert.Equal([2, 4, 1, 3], Encode(tok, "hello world"));
    }

    [Fact]
    public void MissingVocabularyIsNamed()
    {
        var e = Assert.Throws<ModelConfigException>(() => WordPieceTokenizer.Load(_dir));
        Assert.Equal(Path.Combine(_dir, "vocab.txt"), e.FileName);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void VocabularyWithoutASpecialTokenIsRefused()
    {
        Write(["[PAD]", "[UNK]", "[SEP]", "hello"]);
        var e = Assert.Throws<ModelConfigException>(() => WordPieceTokenizer.Load(_dir));
        Assert.Contains("\"[CLS]\"", e.Message);
        Assert.Contains("vocab.txt", e.Message);
    }

    [Theory]
    [InlineData("""{"do_lower_case": "yes"}""", "do_lower_case")]
    [InlineData("""{"tokenizer_class": "RobertaTokenizer"}""", "tokenizer_class")]
    [InlineData("""{"tokenize_chinese_chars": false}""", "tokenize_chinese_chars")]
    [InlineData("""{"model_max_length": 1}""", "model_max_length")]
    [InlineData("""{"unk_token": 3}""", "unk_token")]
    [InlineData("""{"cls_token": {"lstrip": true}}""", "cls_token")]
    [InlineData("""{"do_lower_case": true,""", null)]
    public void BadTokenizerConfigIsNamed(string json, string? field)
    {
        Write(tokenizerConfig: json);
        var e = Assert.Throws<ModelConfigException>(() => WordPieceTokenizer.Load(_dir));
        Assert.Equal(Path.Combine(_dir, "tokenizer_config.json"), e.FileName);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void HugeModelMaxLengthMeansNoLimitOfItsOwn()
    {
        Write(tokenizerConfig: """{"model_max_length": 1000000000000000019884624838656}""");
        Assert.Equal(300, WordPieceTokenizer.Load(_dir, 300).MaxTokens);
    }
}
