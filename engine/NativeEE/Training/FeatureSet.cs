using System.Globalization;
using System.Runtime.InteropServices;
using NativeEE.Safetensors;

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

    /// <summary>The samples at <paramref name="rows"/> (copied, in that order), e.g. the dev rows <see cref="TrainingOverlap.UnseenRows"/> keeps.</summary>
    public FeatureSet Subset(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int h = Hidden, c = Classes;
        var states = new float[Layers][];
        for (int l = 0; l < Layers; l++) states[l] = new float[(long)rows.Count * h];
        var labels = new int[rows.Count];
        var logits = HasFinalLogits ? new float[(long)rows.Count * c] : [];
        for (int i = 0; i < rows.Count; i++)
        {
            int r = rows[i];
            if ((uint)r >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row {r} is outside the set's {Count} samples.");
            for (int l = 0; l < Layers; l++) _layerStates[l].AsSpan(r * h, h).CopyTo(states[l].AsSpan(i * h, h));
            labels[i] = _labels[r];
            if (HasFinalLogits) _finalLogits.AsSpan(r * c, c).CopyTo(logits.AsSpan(i * c, c));
        }
        return new FeatureSet(h, c, states, labels, logits, Metadata);
    }

    /// <summary>Value of the cache file's <c>format</c> metadata entry.</summary>
    public const string CacheFormat = "nativeee-features";

    /// <summary>
    /// Writes the set as a safetensors cache: <c>cls.{l} [N,H]</c> F32 per layer, <c>labels [N]</c> I32,
    /// <c>final_logits [N,C]</c> F32 (when present); metadata <c>format=nativeee-features</c>, <c>classes</c>,
    /// plus <see cref="Metadata"/>.
    /// </summary>
    public void Save(string path)
    {
        var writer = new SafetensorsWriter();
        for (int l = 0; l < Layers; l++) writer.Add(CacheName(l), _layerStates[l], Count, Hidden);
        writer.Add("labels", SafetensorsDType.I32, MemoryMarshal.AsBytes(_labels.AsSpan()), Count);
        if (HasFinalLogits) writer.Add("final_logits", _finalLogits, Count, Classes);
        foreach (var (key, value) in Metadata) writer.Metadata[key] = value;
        writer.Metadata["format"] = CacheFormat;
        writer.Metadata["classes"] = Classes.ToString(CultureInfo.InvariantCulture);
        writer.Save(path);
    }

    /// <summary>Reads a cache written by <see cref="Save"/>.</summary>
    /// <exception cref="SafetensorsException">Not a feature cache, or its tensors disagree in shape; the message names the file and tensor.</exception>
    public static FeatureSet Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != CacheFormat)
            throw new SafetensorsException(file.Path, null, $"metadata format is '{format ?? "(none)"}', expected '{CacheFormat}' (a feature cache written by FeatureSet.Save)");
        if (!file.Metadata.TryGetValue("classes", out var classesText) || !int.TryParse(classesText, NumberStyles.None, CultureInfo.InvariantCulture, out int classes) || classes < 2)
            throw new SafetensorsException(file.Path, null, $"metadata classes '{classesText}' is not a class count ≥ 2");
        if (!file.Contains("labels")) throw new SafetensorsException(file.Path, "labels", "is missing");
        var labelInfo = file.GetInfo("labels");
        if (labelInfo.DType != SafetensorsDType.I32 || labelInfo.Shape.Length != 1)
            throw new SafetensorsException(file.Path, "labels", $"is {labelInfo.DType} rank {labelInfo.Shape.Length}, expected I32 [N]");
        int n = labelInfo.Shape[0];
        int layers = 0;
        while (file.Contains(CacheName(layers))) layers++;
        if (layers == 0) throw new SafetensorsException(file.Path, CacheName(0), "is missing");
        int hidden = -1;
        var states = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            var info = file.GetInfo(CacheName(l));
            if (info.DType != SafetensorsDType.F32 || info.Shape.Length != 2 || info.Shape[0] != n || (hidden >= 0 && info.Shape[1] != hidden))
                throw new SafetensorsException(file.Path, info.Name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected F32 [N={n}, H{(hidden >= 0 ? "=" + hidden : "")}]");
            hidden = info.Shape[1];
            states[l] = file.ReadFloat32(info.Name);
        }
        float[] logits = [];
        if (file.Contains("final_logits"))
        {
            var info = file.GetInfo("final_logits");
            if (info.DType != SafetensorsDType.F32 || info.Shape.Length != 2 || info.Shape[0] != n || info.Shape[1] != classes)
                throw new SafetensorsException(file.Path, info.Name, $"is {info.DType} [{string.Join(", ", info.Shape)}], expected F32 [N={n}, C={classes}]");
            logits = file.ReadFloat32(info.Name);
        }
        var metadata = file.Metadata.Where(kv => kv.Key is not ("format" or "classes")).ToDictionary(kv => kv.Key, kv => kv.Value);
        try
        {
            return new FeatureSet(hidden, classes, states, file.GetSpan<int>("labels").ToArray(), logits, metadata);
        }
        catch (ArgumentException e)
        {
            throw new SafetensorsException(file.Path, "labels", e.Message, e);
        }
    }

    static string CacheName(int layer) => "cls." + layer.ToString(CultureInfo.InvariantCulture);

    internal float[] LayerStatesArray(int layer) => _layerStates[layer];
    internal int[] LabelsArray => _labels;
    internal float[] FinalLogitsArray => _finalLogits;
}
