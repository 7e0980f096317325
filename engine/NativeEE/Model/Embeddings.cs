using NativeEE.Kernels;

namespace NativeEE.Model;

/// <summary>BERT input embeddings: word + token type (always 0: single-sentence classification) + position, then LayerNorm.</summary>
/// <remarks>The tables are read in place from the mapped file: a call touches only the rows of its tokens.</remarks>
internal sealed class Embeddings
{
    readonly int _hidden, _positions;
    readonly float _eps;
    readonly TensorView _word, _position, _tokenType0, _normGamma, _normBeta;

    public Embeddings(ModelConfig config, TensorSource tensors, string prefix)
    {
        int h = config.HiddenSize;
        _hidden = h;
        _positions = config.MaxPositionEmbeddings;
        _eps = config.LayerNormEps;
        VocabSize = config.VocabSize;
        _word = tensors.Read($"{prefix}embeddings.word_embeddings.weight", "vocab_size, hidden_size", config.VocabSize, h);
        _position = tensors.Read($"{prefix}embeddings.position_embeddings.weight", "max_position_embeddings, hidden_size", config.MaxPositionEmbeddings, h);
        _tokenType0 = tensors.Read($"{prefix}embeddings.token_type_embeddings.weight", "type_vocab_size, hidden_size", config.TypeVocabSize, h).Slice(0, h);
        _normGamma = tensors.ReadEither($"{prefix}embeddings.LayerNorm.weight", $"{prefix}embeddings.LayerNorm.gamma", "hidden_size", h);
        _normBeta = tensors.ReadEither($"{prefix}embeddings.LayerNorm.bias", $"{prefix}embeddings.LayerNorm.beta", "hidden_size", h);
    }

    public int VocabSize { get; }

    /// <summary>
    /// ids[T] of the packed sequences <paramref name="offsets"/> → hidden[T, H]. Positions restart at 0 in every
    /// sequence. Ids and lengths were validated by the caller.
    /// </summary>
    public void Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> offsets, Span<float> hidden)
    {
        int h = _hidden;
        for (int b = 0; b + 1 < offsets.Length; b++)
        {
            for (int t = offsets[b]; t < offsets[b + 1]; t++)
            {
                var row = hidden.Slice(t * h, h);
                // HF order: (word + token type) + position, so float rounding matches PyTorch.
                Activations.Add(_word.Span.Slice(ids[t] * h, h), _tokenType0.Span, row);
                Activations.Add(row, _position.Span.Slice((t - offsets[b]) * h, h), row);
            }
        }
        int rows = offsets[^1];
        LayerNorm.Forward(hidden[..(rows * h)], rows, h, _normGamma.Span, _normBeta.Span, _eps, hidden);
    }
}
