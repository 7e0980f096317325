using NativeEE.Kernels;

namespace NativeEE.Model;

/// <summary>
/// A classification head on the [CLS] hidden state: <c>classifier(tanh(pooler(h_cls)))</c>. The model's own
/// <c>bert.pooler.dense</c> + <c>classifier</c> after the last layer, or a DeeBERT "highway" exit after an earlier one.
/// </summary>
internal sealed class ExitHead
{
    readonly PackedMatrix _pooler, _classifier;
    readonly float[] _poolerBias, _classifierBias;

    public ExitHead(int layer, int hidden, int labels, float[] poolerWeight, float[] poolerBias, float[] classifierWeight, float[] classifierBias)
    {
        Layer = layer;
        Labels = labels;
        _pooler = Gemm.Pack(poolerWeight, hidden, hidden);
        _poolerBias = poolerBias;
        _classifier = Gemm.Pack(classifierWeight, labels, hidden);
        _classifierBias = classifierBias;
    }

    /// <summary>0-based encoder layer whose output the head reads.</summary>
    public int Layer { get; }

    public int Labels { get; }

    /// <summary>
    /// cls[S, H] → logits[S, C]; <paramref name="pooled"/>[S, H] is scratch. All running sequences share one GEMM per matrix.
    /// </summary>
    public void Forward(ReadOnlySpan<float> cls, int rows, Span<float> pooled, Span<float> logits, WorkerPool pool)
    {
        Gemm.Multiply(cls, rows, _pooler, _poolerBias, pooled, Epilogue.Tanh, pool: pool);
        Gemm.Multiply(pooled, rows, _classifier, _classifierBias, logits, pool: pool);
    }
}
