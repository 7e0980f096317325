namespace NativeEE;

/// <summary>The outputs of every exit head a sequence passed, in layer order (the answering head last).</summary>
public sealed class PredictionTrace
{
    readonly List<ExitHeadOutput> _heads = [];

    internal void Add(int layer, ReadOnlySpan<float> logits, ReadOnlySpan<float> probabilities)
        => _heads.Add(new ExitHeadOutput(layer, logits.ToArray(), probabilities.ToArray()));

    /// <summary>One entry per head evaluated, in layer order.</summary>
    public IReadOnlyList<ExitHeadOutput> Heads => _heads;
}

/// <summary>One exit head's answer for one sequence.</summary>
public sealed class ExitHeadOutput
{
    readonly float[] _logits, _probabilities;

    internal ExitHeadOutput(int layer, float[] logits, float[] probabilities)
    {
        Layer = layer;
        _logits = logits;
        _probabilities = probabilities;
    }

    /// <summary>0-based encoder layer the head reads.</summary>
    public int Layer { get; }

    /// <summary>The head's logits, one per label.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>Softmax of <see cref="Logits"/>.</summary>
    public ReadOnlySpan<float> Probabilities => _probabilities;
}
