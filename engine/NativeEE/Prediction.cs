using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace NativeEE;

/// <summary>
/// The outcome of classifying one sequence: the label, how sure the head that answered was, and where it answered.
/// </summary>
/// <remarks>
/// A value type so the pre-tokenized calls allocate nothing: probabilities and logits of up to
/// <see cref="InlineLabels"/> labels live inside the struct. A model with more labels allocates one small array
/// per prediction. <c>default(Prediction)</c> means "no prediction" (<see cref="HasValue"/> is false).
/// </remarks>
public readonly struct Prediction
{
    /// <summary>Labels whose probabilities and logits are stored inline (no allocation).</summary>
    public const int InlineLabels = 16;

    readonly LabelValues _inline;
    readonly float[]? _heap;
    readonly string? _labelName;

    internal Prediction(ReadOnlySpan<float> logits, ReadOnlySpan<float> probabilities, string labelName, int label,
        int exitLayer, int tokenCount, bool truncated, PredictionTrace? trace)
    {
        int c = probabilities.Length;
        LabelCount = c;
        if (c <= InlineLabels)
        {
            LabelValues v = default;
            Span<float> s = v;
            probabilities.CopyTo(s);
            logits.CopyTo(s[c..]);
            _inline = v;
        }
        else
        {
            _heap = new float[2 * c];
            probabilities.CopyTo(_heap);
            logits.CopyTo(_heap.AsSpan(c));
        }
        Label = label;
        _labelName = labelName;
        Confidence = probabilities[label];
        ExitLayer = exitLayer;
        TokenCount = tokenCount;
        Truncated = truncated;
        Trace = trace;
    }

    /// <summary>False for <c>default(Prediction)</c>, true for every prediction the model made.</summary>
    public bool HasValue => _labelName is not null;

    /// <summary>Index of the most probable label (ties: the lowest index).</summary>
    public int Label { get; }

    /// <summary>The label's name from <c>config.json</c> (<c>id2label</c>).</summary>
    public string LabelName => _labelName ?? "";

    /// <summary>Probability of <see cref="Label"/> under the head that answered.</summary>
    public float Confidence { get; }

    /// <summary>Number of labels (length of <see cref="Probabilities"/> and <see cref="Logits"/>).</summary>
    public int LabelCount { get; }

    /// <summary>Softmax of the answering head's logits, one per label.</summary>
    [UnscopedRef]
    public ReadOnlySpan<float> Probabilities => _heap is null ? ((ReadOnlySpan<float>)_inline)[..LabelCount] : _heap.AsSpan(0, LabelCount);

    /// <summary>The answering head's raw logits, one per label (for the final exit: the model's own classifier output).</summary>
    [UnscopedRef]
    public ReadOnlySpan<float> Logits => _heap is null ? ((ReadOnlySpan<float>)_inline).Slice(LabelCount, LabelCount) : _heap.AsSpan(LabelCount, LabelCount);

    /// <summary>0-based encoder layer after which the answering head ran (the last layer for the model's own classifier).</summary>
    public int ExitLayer { get; }

    /// <summary>Encoder layers computed for this sequence: <see cref="ExitLayer"/> + 1.</summary>
    public int LayersRun => ExitLayer + 1;

    /// <summary>Tokens the encoder saw, [CLS] and [SEP] included.</summary>
    public int TokenCount { get; }

    /// <summary>True when the text was longer than the model's token limit and its end was cut.</summary>
    public bool Truncated { get; }

    /// <summary>Every head's output on the way, when the call asked for it (<see cref="EarlyExitModel.ClassifyWithTrace(string, ExitPolicy?, CancellationToken)"/>); otherwise null.</summary>
    public PredictionTrace? Trace { get; }

    /// <inheritdoc/>
    public override string ToString() => HasValue ? $"{LabelName} ({Confidence:0.000}) after layer {ExitLayer}" : "(no prediction)";

    [InlineArray(2 * InlineLabels)]
    struct LabelValues
    {
        float _first;
    }
}
