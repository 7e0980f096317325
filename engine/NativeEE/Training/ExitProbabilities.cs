using NativeEE.Kernels;

namespace NativeEE.Training;

/// <summary>
/// Every exit point's class probabilities for a labelled set: probabilities[N, E, C] for the E exit points at
/// ascending 0-based encoder <see cref="Layers"/>, the last being the model's final output. The input of
/// threshold calibration: because a head's output does not depend on whether later layers run, replaying an
/// exit policy over this table gives the same exits as running the engine.
/// </summary>
public sealed class ExitProbabilities
{
    readonly float[] _probabilities;
    readonly int[] _labels;
    readonly int[] _layers;

    /// <summary>
    /// Wraps (does not copy) probabilities[N, E, C] and labels[N]; <paramref name="layers"/>[E] ascending, the last
    /// one <paramref name="totalLayers"/> − 1 (the final classifier).
    /// </summary>
    public ExitProbabilities(IReadOnlyList<int> layers, int totalLayers, int classes, float[] probabilities, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (layers.Count == 0) throw new ArgumentException("At least the final exit is needed.", nameof(layers));
        for (int e = 0; e < layers.Count; e++)
            if (layers[e] < 0 || (e > 0 && layers[e] <= layers[e - 1]))
                throw new ArgumentException($"Exit layers must be ascending 0-based layer indices; got {string.Join(",", layers)}.", nameof(layers));
        if (layers[^1] != totalLayers - 1)
            throw new ArgumentException($"The last exit must be the final layer {totalLayers - 1}; got {layers[^1]}.", nameof(layers));
        if (probabilities.LongLength != (long)labels.Length * layers.Count * classes)
            throw new ArgumentException($"probabilities has {probabilities.LongLength} values; [N={labels.Length}, E={layers.Count}, C={classes}] needs {(long)labels.Length * layers.Count * classes}.", nameof(probabilities));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes) throw new ArgumentException($"Label {labels[i]} of sample {i} is outside [0, {classes}).", nameof(labels));
        _layers = layers.ToArray();
        TotalLayers = totalLayers;
        Classes = classes;
        _probabilities = probabilities;
        _labels = labels;
    }

    /// <summary>Samples N.</summary>
    public int Count => _labels.Length;

    /// <summary>Classes C.</summary>
    public int Classes { get; }

    /// <summary>Encoder layers of the model (a sample that never exits early runs all of them).</summary>
    public int TotalLayers { get; }

    /// <summary>0-based encoder layer of each exit point, ascending; the last is the final classifier.</summary>
    public IReadOnlyList<int> Layers => _layers;

    /// <summary>Labels [N].</summary>
    public ReadOnlyMemory<int> Labels => _labels;

    /// <summary>probabilities[C] of sample <paramref name="sample"/> at exit point <paramref name="exit"/> (index into <see cref="Layers"/>).</summary>
    public ReadOnlySpan<float> Get(int sample, int exit) => _probabilities.AsSpan((sample * _layers.Length + exit) * Classes, Classes);

    /// <summary>Accuracy in [0, 1] of exit point <paramref name="exit"/> alone (every sample read there).</summary>
    public double Accuracy(int exit)
    {
        if ((uint)exit >= (uint)_layers.Length) throw new ArgumentOutOfRangeException(nameof(exit), exit, $"There are {_layers.Length} exit points.");
        if (Count == 0) throw new InvalidOperationException("No samples.");
        int correct = 0;
        for (int i = 0; i < Count; i++) if (ExitHead.ArgMax(Get(i, exit)) == _labels[i]) correct++;
        return (double)correct / Count;
    }

    /// <summary>The samples at <paramref name="rows"/> (copied, in that order), e.g. the rows <see cref="TrainingOverlap.UnseenRows"/> keeps.</summary>
    public ExitProbabilities Subset(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int stride = _layers.Length * Classes;
        var probabilities = new float[(long)rows.Count * stride];
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            int r = rows[i];
            if ((uint)r >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row {r} is outside the table's {Count} samples.");
            _probabilities.AsSpan(r * stride, stride).CopyTo(probabilities.AsSpan(i * stride, stride));
            labels[i] = _labels[r];
        }
        return new ExitProbabilities(_layers, TotalLayers, Classes, probabilities, labels);
    }

    /// <summary>
    /// logits[N, E, C] of the exits at <paramref name="layers"/>[E] (the last one the final classifier, as
    /// <c>EarlyExitModel.ComputeExitLogits</c> returns them) and labels[N] → the table (softmax per exit).
    /// </summary>
    public static ExitProbabilities FromLogits(IReadOnlyList<int> layers, int totalLayers, int classes, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(layers);
        long rows = (long)labels.Length * layers.Count;
        if (logits.Length != rows * classes)
            throw new ArgumentException($"logits has {logits.Length} values; [N={labels.Length}, E={layers.Count}, C={classes}] needs {rows * classes}.", nameof(logits));
        var probabilities = new float[logits.Length];
        Softmax.Forward(logits, (int)rows, classes, probabilities);
        return new ExitProbabilities(layers, totalLayers, classes, probabilities, labels.ToArray());
    }

    /// <summary>
    /// Runs <paramref name="model"/> at full depth over tokenIds[N] (e.g. from <see cref="FeatureSetBuilder.Tokenize"/>)
    /// evaluating every exit head it has, <paramref name="batchSize"/> sequences per pass → the table for calibration.
    /// <paramref name="progress"/> receives the number of samples done.
    /// </summary>
    public static ExitProbabilities FromModel(EarlyExitModel model, IReadOnlyList<int[]> tokenIds, IReadOnlyList<int> labels, int batchSize = 128,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenIds);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int n = tokenIds.Count, e = model.ExitLayers.Count, c = model.Config.NumLabels;
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} sequences.", nameof(labels));
        var logits = new float[(long)n * e * c];
        var batch = new BatchPacker(tokenIds, batchSize);
        for (int start = 0; start < n; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = batch.Pack(start);
            model.ComputeExitLogits(batch.Tokens, batch.Offsets, logits.AsSpan(start * e * c, count * e * c));
            progress?.Report(start + count);
        }
        var labelArray = labels.ToArray();
        return FromLogits(model.ExitLayers, model.NumLayers, c, logits, labelArray);
    }

    /// <summary>
    /// Applies <paramref name="heads"/> (by layer; none at the last layer) to the set's [CLS] states and takes the model's
    /// final logits for the last exit; softmax gives the probabilities.
    /// </summary>
    public static ExitProbabilities FromFeatures(FeatureSet features, IReadOnlyDictionary<int, ExitHead> heads, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(heads);
        if (!features.HasFinalLogits) throw new ArgumentException("The feature set has no final logits (the last exit).", nameof(features));
        int n = features.Count, c = features.Classes, final = features.Layers - 1;
        var layers = heads.Keys.Order().ToList();
        foreach (int l in layers)
        {
            if (l < 0 || l >= final)
                throw new ArgumentException($"Exit head at layer {l}: intermediate heads must sit at layers 0…{final - 1}; the final exit is the model's own classifier.", nameof(heads));
            if (heads[l].Hidden != features.Hidden || heads[l].Classes != c)
                throw new ArgumentException($"Exit head at layer {l} is [H={heads[l].Hidden}, C={heads[l].Classes}], the features [H={features.Hidden}, C={c}].", nameof(heads));
        }
        layers.Add(final);
        int e = layers.Count;
        var probabilities = new float[(long)n * e * c];
        var logits = new float[(long)n * c];
        for (int k = 0; k < e; k++)
        {
            if (k < e - 1) heads[layers[k]].ComputeLogits(features.LayerStates(layers[k]).Span, n, logits, pool);
            else features.FinalLogits.Span.CopyTo(logits);
            Softmax.Forward(logits, n, c, logits);
            for (int i = 0; i < n; i++) logits.AsSpan(i * c, c).CopyTo(probabilities.AsSpan((i * e + k) * c, c));
        }
        return new ExitProbabilities(layers, features.Layers, c, probabilities, features.Labels.ToArray());
    }
}
