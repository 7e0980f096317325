namespace NativeEE;

/// <summary>
/// What an <see cref="ExitPolicy"/> remembers about one sample between exit heads. The engine keeps one
/// per sample in the batch, starting from <c>default</c>, and passes it by reference to every
/// <see cref="ExitPolicy.ShouldExit"/> call for that sample; policies stay immutable and shareable.
/// </summary>
public struct ExitState
{
    /// <summary>Exit heads evaluated so far for this sample.</summary>
    public int HeadsSeen { readonly get; internal set; }

    /// <summary>Argmax of the previous head (meaningful once <see cref="HeadsSeen"/> &gt; 0).</summary>
    public int LastArgmax { readonly get; internal set; }

    /// <summary>
    /// The policy's current run length: for Patience, how many heads in a row kept the argmax unchanged;
    /// for PatientConfidence, how many heads in a row were confident. 0 for the other policies.
    /// </summary>
    public int Streak { readonly get; internal set; }

    /// <summary>Encoder layer index of the last head seen, or -1 before any (for input-order checks).</summary>
    public readonly int LastLayer => HeadsSeen == 0 ? -1 : _lastLayer;

    int _lastLayer;

    /// <summary>Records that a head at <paramref name="layer"/> was seen; layers must increase per sample.</summary>
    internal void Advance(int layer)
    {
        if (layer < 0)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, "Encoder layer index must be ≥ 0.");
        if (HeadsSeen > 0 && layer <= _lastLayer)
            throw new ArgumentOutOfRangeException(nameof(layer), layer,
                $"Exit heads must be reported in increasing layer order for one sample (previous layer {_lastLayer}); was an ExitState reused across samples?");
        _lastLayer = layer;
        HeadsSeen++;
    }
}
