using System.Runtime.InteropServices;

namespace NativeEE.Training;

/// <summary>
/// Packs runs of consecutive sequences of tokenIds[N] back to back (the layout the engine's batch calls take), reusing
/// its buffers from batch to batch.
/// </summary>
internal sealed class BatchPacker(IReadOnlyList<int[]> tokenIds, int batchSize)
{
    readonly int[] _offsets = new int[batchSize + 1];
    readonly List<int> _tokens = [];
    int _count;

    /// <summary>Sequences [start, start + count) → <see cref="Tokens"/> and <see cref="Offsets"/>; count = min(batch size, N − start).</summary>
    public int Pack(int start)
    {
        _count = Math.Min(batchSize, tokenIds.Count - start);
        _tokens.Clear();
        for (int i = 0; i < _count; i++)
        {
            _offsets[i] = _tokens.Count;
            _tokens.AddRange(tokenIds[start + i]);
        }
        _offsets[_count] = _tokens.Count;
        return _count;
    }

    /// <summary>The packed token ids of the last <see cref="Pack"/>.</summary>
    public ReadOnlySpan<int> Tokens => CollectionsMarshal.AsSpan(_tokens);

    /// <summary>offsets[count + 1] of the last <see cref="Pack"/>: sequence i is Tokens[offsets[i]..offsets[i + 1]).</summary>
    public ReadOnlySpan<int> Offsets => _offsets.AsSpan(0, _count + 1);
}
