namespace NativeEE.Training;

/// <summary>
/// The frozen backbone's view of a labelled data set, computed once: for every sample the <c>[CLS]</c>
/// hidden state after each encoder layer, its label, and the model's final logits (the teacher for
/// self-distillation and the full-depth baseline for calibration).
/// Layout: per layer one row-major matrix <c>[N,H]</c>, labels <c>[N]</c>, final logits <c>[N,C]</c>.
/// </summary>
public sealed class FeatureSet
{
    readonly float[][] _layerStates;
    readonly int[] _labels;
    readonly float[] _finalLogits;

    /// <summary>
    /// Wraps (does not copy) layerStates[L] each [N,H], labels[N] in [0, C), finalLogits[N,C] (may be empty when unknown).
    /// </summary>
    public FeatureSet(int hidden, int classes, float[][] layerStates, int[] labels, float[] finalLogits,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(layerStates);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(finalLogits);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (layerStates.Length < 1) throw new ArgumentException("A feature set needs at least one layer.", nameof(layerStates));
        int n = labels.Length;
        for (int l = 0; l < layerStates.Length; l++)
            if (layerStates[l] is null || layerStates[l].LongLength != (long)n * hidden)
                throw new ArgumentException($"Layer {l} states have {layerStates[l]?.LongLength ?? 0} elements; expected [N={n}, H={hidden}].", nameof(layerStates));
        if (finalLogits.Length != 0 && finalLogits.LongLength != (long)n * classes)
            throw new ArgumentException($"Final logits have {finalLogits.Length} elements; expected [N={n}, C={classes}] or none.", nameof(finalLogits));
        for (int i = 0; i < n; i++)
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentException($"Label {labels[i]} of sample {i} is outside [0, {classes}).", nameof(labels));
        Hidden = hidden;
        Classes = classes;
        _layerStates = layerStates;
        _labels = labels;
        _finalLogits = finalLogits;
        Metadata = metadata is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata);
    }

    /// <summary>Samples N.</summary>
    public int Count => _labels.Length;

    /// <summary>Encoder layers L (states after layer 0 … L−1).</summary>
    public int Layers => _layerStates.Length;

    /// <summary>Hidden size H.</summary>
    public int Hidden { get; }

    /// <summary>Classes C.</summary>
    public int Classes { get; }

    /// <summary>Labels [N].</summary>
    public ReadOnlyMemory<int> Labels => _labels;

    /// <summary>The model's final logits [N,C]; empty when the set was built without them.</summary>
    public ReadOnlyMemory<float> FinalLogits => _finalLogits;

    /// <summary>True when <see cref="FinalLogits"/> is present.</summary>
    public bool HasFinalLogits => _finalLogits.Length != 0;

    /// <summary>Provenance (model, data file, …), stored with the cache so a caller can check it still matches.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The [CLS] states after encoder layer <paramref name="layer"/> (0-based): [N,H].</summary>
    public ReadOnlyMemory<float> LayerStates(int layer)
    {
        if ((uint)layer >= (uint)Layers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The feature set has layers 0…{Layers - 1}.");
        return _layerStates[layer];
    }

    /// <summary>Accuracy of the model's final logits against the labels (the full-depth baseline), in [0, 1].</summary>
    public double FinalAccuracy()
    {
        if (!HasFinalLogits) throw new InvalidOperationException("This feature set has no final logits.");
        if (Count == 0) throw new InvalidOperationException("This feature set is empty.");
        int correct = 0;
        for (int i = 0; i < Count; i++)
            if (ExitHead.ArgMax(_finalLogits.AsSpan(i * Classes, Classes)) == _labels[i]) correct++;
        return (double)correct / Count;
    }

    internal float[] LayerStatesArray(int layer) => _layerStates[layer];
    internal int[] LabelsArray => _labels;
    internal float[] FinalLogitsArray => _finalLogits;
}
