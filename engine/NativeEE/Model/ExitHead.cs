using NativeEE.Kernels;

namespace NativeEE.Model;

/// <summary>
/// A classification head on the [CLS] hidden state: <c>classifier(tanh(pooler(h_cls)))</c>. The model's own
/// <c>bert.pooler.dense</c> + <c>classifier</c> after the last layer, or a DeeBERT "highway" exit after an earlier one.
/// </summary>
internal sealed class ExitHead
{
    readonly PackedMatrix _pooler, _classifier;
    readonly TensorView _poolerBias, _classifierBias;

    /// <summary>pooler W[H,H] + b[H], classifier W[C,H] + b[C].</summary>
    public ExitHead(int layer, int labels, PackedMatrix pooler, TensorView poolerBias, PackedMatrix classifier, TensorView classifierBias)
    {
        Layer = layer;
        Labels = labels;
        _pooler = pooler;
        _poolerBias = poolerBias;
        _classifier = classifier;
        _classifierBias = classifierBias;
    }

    /// <summary>The head whose tensors are <paramref name="poolerPrefix"/>weight|bias and <paramref name="classifierPrefix"/>weight|bias.</summary>
    public static ExitHead Read(TensorSource tensors, int layer, int hidden, int labels, string poolerPrefix, string classifierPrefix)
    {
        const string H = "hidden_size", CH = "num_labels (id2label), hidden_size", C = "num_labels (id2label)";
        return new ExitHead(layer, labels,
            tensors.Matrix(H, hidden, hidden, poolerPrefix + "weight"), tensors.Read(poolerPrefix + "bias", H, hidden),
            tensors.Matrix(CH, labels, hidden, classifierPrefix + "weight"), tensors.Read(classifierPrefix + "bias", C, labels));
    }

    /// <summary>0-based encoder layer whose output the head reads.</summary>
    public int Layer { get; }

    public int Labels { get; }

    /// <summary>
    /// cls[S, H] → logits[S, C]; <paramref name="pooled"/>[S, H] is scratch. All running sequences share one GEMM per matrix.
    /// </summary>
    public void Forward(ReadOnlySpan<float> cls, int rows, Span<float> pooled, Span<float> logits, WorkerPool pool)
    {
        Gemm.Multiply(cls, rows, _pooler, _poolerBias.Span, pooled, Epilogue.Tanh, pool: pool);
        Gemm.Multiply(pooled, rows, _classifier, _classifierBias.Span, logits, pool: pool);
    }
}
