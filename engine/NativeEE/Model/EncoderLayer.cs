using NativeEE.Kernels;
using NativeEE.Batching;

namespace NativeEE.Model;

/// <summary>
/// One BERT encoder layer (Vaswani et al. 2017, post-LayerNorm as in BERT): self-attention with a fused Q/K/V
/// projection, output projection + residual + LayerNorm, feed-forward (GELU) + residual + LayerNorm.
/// </summary>
internal sealed class EncoderLayer
{
    readonly int _hidden, _intermediate, _heads, _headDim;
    readonly float _eps;
    readonly PackedMatrix _qkv, _attentionOut, _up, _down;
    readonly TensorView _qkvBias, _attentionOutBias, _attentionNormGamma, _attentionNormBeta;
    readonly TensorView _upBias, _downBias, _outputNormGamma, _outputNormBeta;

    public EncoderLayer(ModelConfig config, TensorSource tensors, string prefix)
    {
        int h = config.HiddenSize, ff = config.IntermediateSize;
        _hidden = h;
        _intermediate = ff;
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        _eps = config.LayerNormEps;
        const string H = "hidden_size", HI = "hidden_size, intermediate_size";

        // Q, K and V share their input, so one [3H, H] GEMM replaces three; the attention kernel reads
        // each token's row as [Q heads | K heads | V heads].
        string self = prefix + "attention.self.";
        _qkv = tensors.Matrix(H, h, h, self + "query.weight", self + "key.weight", self + "value.weight");
        var qkvBias = TensorView.Allocate(3 * h, out var qkvBiasContents);
        tensors.Read(self + "query.bias", H, h).Span.CopyTo(qkvBiasContents);
        tensors.Read(self + "key.bias", H, h).Span.CopyTo(qkvBiasContents[h..]);
        tensors.Read(self + "value.bias", H, h).Span.CopyTo(qkvBiasContents[(2 * h)..]);
        _qkvBias = qkvBias;

        _attentionOut = tensors.Matrix(H, h, h, $"{prefix}attention.output.dense.weight");
        _attentionOutBias = tensors.Read($"{prefix}attention.output.dense.bias", H, h);
        _attentionNormGamma = tensors.ReadEither($"{prefix}attention.output.LayerNorm.weight", $"{prefix}attention.output.LayerNorm.gamma", H, h);
        _attentionNormBeta = tensors.ReadEither($"{prefix}attention.output.LayerNorm.bias", $"{prefix}attention.output.LayerNorm.beta", H, h);

        _up = tensors.Matrix(HI, ff, h, $"{prefix}intermediate.dense.weight");
        _upBias = tensors.Read($"{prefix}intermediate.dense.bias", HI, ff);
        _down = tensors.Matrix(HI, h, ff, $"{prefix}output.dense.weight");
        _downBias = tensors.Read($"{prefix}output.dense.bias", H, h);
        _outputNormGamma = tensors.ReadEither($"{prefix}output.LayerNorm.weight", $"{prefix}output.LayerNorm.gamma", H, h);
        _outputNormBeta = tensors.ReadEither($"{prefix}output.LayerNorm.bias", $"{prefix}output.LayerNorm.beta", H, h);
    }

    /// <summary>
    /// hidden[T, H] → hidden[T, H] in place, for the packed sequences <paramref name="offsets"/> (T = offsets[^1]).
    /// </summary>
    public void Forward(Span<float> hidden, ReadOnlySpan<int> offsets, InferenceScratch s, WorkerPool pool)
    {
        Attend(hidden, offsets, s, pool);
        FinishRows(hidden, offsets, s, pool);
    }

    /// <summary>First half of <see cref="Forward"/>: the Q/K/V projection and attention of every row, into <c>s.Context</c>.</summary>
    public void Attend(ReadOnlySpan<float> hidden, ReadOnlySpan<int> offsets, InferenceScratch s, WorkerPool pool)
    {
        int rows = offsets[^1], h = _hidden;
        var qkv = s.Qkv.AsSpan(0, rows * 3 * h);
        Gemm.Multiply(hidden[..(rows * h)], rows, _qkv, _qkvBias.Span, qkv, pool: pool);
        Attention.Forward(qkv, offsets, _heads, _headDim, s.Context.AsSpan(0, rows * h), s.AttentionScratch, default, pool);
    }

    /// <summary>
    /// Second half of <see cref="Forward"/>, row by row: hidden[T, H] (the layer's input) and <c>s.Context</c>[T, H]
    /// → hidden[T, H], the layer's output.
    /// </summary>
    public void FinishRows(Span<float> hidden, ReadOnlySpan<int> offsets, InferenceScratch s, WorkerPool pool)
    {
        int rows = offsets[^1], h = _hidden;
        Finish(s.Context.AsSpan(0, rows * h), rows, hidden[..(rows * h)], s.Sum.AsSpan(0, rows * h), s.Ffn.AsSpan(0, rows * _intermediate), pool);
    }

    /// <summary>
    /// After <see cref="Attend"/>: the layer's output for each sequence's first ([CLS]) row only, into cls[S, H] —
    /// what a head needs to decide whether the sequence goes on. <c>s.Context</c> and <paramref name="hidden"/> are
    /// left as they are, so <see cref="FinishRows"/> can complete the layer for the sequences that do. Every
    /// operation after attention is row-wise and every kernel computes a row the same way whatever else shares
    /// the call, so these rows are bit-identical to the full layer's.
    /// </summary>
    public void FinishFirstRows(ReadOnlySpan<float> hidden, ReadOnlySpan<int> offsets, Span<float> cls, InferenceScratch s, WorkerPool pool)
    {
        int seqs = offsets.Length - 1, h = _hidden;
        var clsContext = s.ClsContext.AsSpan(0, seqs * h);
        GatherFirstRows(s.Context, offsets, h, clsContext);
        var x = cls[..(seqs * h)];
        GatherFirstRows(hidden, offsets, h, x);
        Finish(clsContext, seqs, x, s.ClsSum.AsSpan(0, seqs * h), s.Ffn.AsSpan(0, seqs * _intermediate), pool);
    }

    /// <summary>
    /// hidden[T, H] → cls[S, H]: the layer's output for each sequence's first ([CLS]) row only, S = offsets.Length − 1.
    /// </summary>
    /// <remarks>
    /// After the last layer only [CLS] rows are read. Keys and values still need every token, but attention is
    /// computed for the [CLS] query only, and the output projection and the feed-forward — three quarters of a
    /// layer's work — run on one row per sequence. Every operation after attention is row-wise, so these rows
    /// equal the full layer's.
    /// </remarks>
    public void ForwardFirstRows(ReadOnlySpan<float> hidden, ReadOnlySpan<int> offsets, Span<float> cls, InferenceScratch s, WorkerPool pool)
    {
        int rows = offsets[^1], seqs = offsets.Length - 1, h = _hidden;
        var qkv = s.Qkv.AsSpan(0, rows * 3 * h);
        var clsContext = s.ClsContext.AsSpan(0, seqs * h);
        var x = cls[..(seqs * h)];
        Gemm.Multiply(hidden[..(rows * h)], rows, _qkv, _qkvBias.Span, qkv, pool: pool);
        Attention.ForwardFirstToken(qkv, offsets, _heads, _headDim, clsContext, s.AttentionScratch, default, pool);
        GatherFirstRows(hidden, offsets, h, x);
        Finish(clsContext, seqs, x, s.ClsSum.AsSpan(0, seqs * h), s.Ffn.AsSpan(0, seqs * _intermediate), pool);
    }

    /// <summary>context[R, H] and x[R, H] (the layer's input rows) → x = the layer's output rows; sum and ffn are scratch.</summary>
    void Finish(ReadOnlySpan<float> context, int rows, Span<float> x, Span<float> sum, Span<float> ffn, WorkerPool pool)
    {
        int h = _hidden;
        Gemm.Multiply(context, rows, _attentionOut, _attentionOutBias.Span, sum, Epilogue.None, residual: x, pool);
        LayerNorm.Forward(sum, rows, h, _attentionNormGamma.Span, _attentionNormBeta.Span, _eps, x);
        Gemm.Multiply(x, rows, _up, _upBias.Span, ffn, Epilogue.Gelu, pool: pool);
        Gemm.Multiply(ffn, rows, _down, _downBias.Span, sum, Epilogue.None, residual: x, pool);
        LayerNorm.Forward(sum, rows, h, _outputNormGamma.Span, _outputNormBeta.Span, _eps, x);
    }

    /// <summary>rows[T, width] → first[S, width]: row offsets[b] of every sequence b.</summary>
    internal static void GatherFirstRows(ReadOnlySpan<float> rows, ReadOnlySpan<int> offsets, int width, Span<float> first)
    {
        for (int b = 0; b + 1 < offsets.Length; b++)
            rows.Slice(offsets[b] * width, width).CopyTo(first.Slice(b * width, width));
    }
}
