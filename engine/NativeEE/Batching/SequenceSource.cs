namespace NativeEE.Batching;

/// <summary>Where a batch's token sequences come from: texts to tokenize, or ids the caller already has.</summary>
internal interface ISequenceSource
{
    int Count { get; }

    /// <summary>Writes sequence <paramref name="i"/>'s ids into <paramref name="ids"/> (length ≥ MaxTokens) and returns their number.</summary>
    int Load(int i, Span<int> ids, out bool truncated);
}

/// <summary>Texts, tokenized one at a time as the batch is packed.</summary>
internal readonly ref struct TextSource(ReadOnlySpan<string> texts, WordPieceTokenizer tokenizer) : ISequenceSource
{
    readonly ReadOnlySpan<string> _texts = texts;

    public int Count => _texts.Length;

    public int Load(int i, Span<int> ids, out bool truncated)
    {
        string text = _texts[i] ?? throw new ArgumentNullException("texts", $"texts[{i}] is null.");
        return tokenizer.Encode(text, ids, out truncated);
    }
}

/// <summary>Pre-tokenized sequences: <c>ids[offsets[i]..offsets[i+1]]</c>, checked against the vocabulary and the token limit.</summary>
internal readonly ref struct TokenIdSource : ISequenceSource
{
    readonly ReadOnlySpan<int> _ids;
    readonly ReadOnlySpan<int> _offsets;
    readonly int _vocabulary, _maxTokens;

    public TokenIdSource(ReadOnlySpan<int> ids, ReadOnlySpan<int> offsets, int vocabulary, int maxTokens)
    {
        if (offsets.Length < 1) throw new ArgumentException("offsets needs at least one entry (sequence i is ids[offsets[i]..offsets[i+1]]).", nameof(offsets));
        for (int i = 0; i + 1 < offsets.Length; i++)
        {
            if (offsets[i] < 0 || offsets[i + 1] > ids.Length || offsets[i + 1] < offsets[i])
                throw new ArgumentException($"offsets[{i}..{i + 1}] = {offsets[i]}..{offsets[i + 1]} is not a range inside tokenIds (length {ids.Length}).", nameof(offsets));
        }
        _ids = ids;
        _offsets = offsets;
        _vocabulary = vocabulary;
        _maxTokens = maxTokens;
    }

    public int Count => _offsets.Length - 1;

    public int Load(int i, Span<int> ids, out bool truncated)
    {
        var sequence = _ids[_offsets[i].._offsets[i + 1]];
        if (sequence.IsEmpty)
            throw new ArgumentException($"Sequence {i} has no tokens; each needs at least one ([CLS]).", "tokenIds");
        if (sequence.Length > _maxTokens)
            throw new ArgumentException($"Sequence {i} has {sequence.Length} tokens; the model takes at most {_maxTokens} (MaxTokens).", "tokenIds");
        for (int t = 0; t < sequence.Length; t++)
        {
            if ((uint)sequence[t] >= (uint)_vocabulary)
                throw new ArgumentOutOfRangeException("tokenIds", sequence[t], $"Sequence {i}, token {t}: id {sequence[t]} is outside the vocabulary [0, {_vocabulary}).");
        }
        sequence.CopyTo(ids);
        truncated = false;
        return sequence.Length;
    }
}
