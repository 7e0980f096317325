namespace NativeEE.Cli;

/// <summary>
/// Texts tokenized once, packed for the engine's pre-tokenized batch call: sequence i is
/// <c>Ids[Offsets[i]..Offsets[i+1]]</c>. Timing runs on this so both sides of a speed-up compare only the encoder.
/// </summary>
internal sealed class TokenizedSet
{
    TokenizedSet(int[] ids, int[] offsets)
    {
        Ids = ids;
        Offsets = offsets;
    }

    public int[] Ids { get; }
    public int[] Offsets { get; }
    public int Count => Offsets.Length - 1;
    public long Tokens => Offsets[^1];

    public static TokenizedSet Create(EarlyExitModel model, IReadOnlyList<string> texts)
    {
        var offsets = new int[texts.Count + 1];
        var ids = new List<int>(texts.Count * 32);
        var buffer = new int[model.MaxTokens];
        for (int i = 0; i < texts.Count; i++)
        {
            int n = model.Tokenize(texts[i], buffer, out _);
            ids.AddRange(buffer.AsSpan(0, n));
            offsets[i + 1] = ids.Count;
        }
        return new TokenizedSet([.. ids], offsets);
    }

    /// <summary>Offsets of sequences [start, start + count): absolute positions into <see cref="Ids"/>, as the engine takes them.</summary>
    public ReadOnlySpan<int> BatchOffsets(int start, int count) => Offsets.AsSpan(start, count + 1);

    /// <summary>Sequence i's ids ([CLS] … [SEP]).</summary>
    public int[] Sequence(int i) => Ids[Offsets[i]..Offsets[i + 1]];
}
