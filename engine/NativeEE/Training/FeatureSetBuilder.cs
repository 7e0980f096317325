namespace NativeEE.Training;

/// <summary>
/// Runs a frozen backbone over a batch of sequences: tokenIds[T] packed back to back, sequence i being
/// <c>tokenIds[offsets[i]..offsets[i+1]]</c> → clsPerLayer[N, L, H] (the [CLS] state after every layer) and
/// finalLogits[N, C]. <c>EarlyExitModel.ComputeLayerStates</c> has exactly this shape.
/// </summary>
public delegate void LayerStateFunction(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> offsets, Span<float> clsPerLayer, Span<float> finalLogits);

/// <summary>Builds a <see cref="FeatureSet"/> by running the backbone once over every sample, in batches.</summary>
public static class FeatureSetBuilder
{
    /// <summary>
    /// texts[N] and labels[N] → the feature set of <paramref name="model"/>'s frozen backbone: each text is
    /// tokenized as the model does at inference, then run at full depth in batches of <paramref name="batchSize"/>.
    /// The metadata records the model folder and the sample count (add the data file yourself to check a cache).
    /// </summary>
    public static FeatureSet Build(EarlyExitModel model, IReadOnlyList<string> texts, IReadOnlyList<int> labels, int batchSize = 128,
        IReadOnlyDictionary<string, string>? metadata = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(texts);
        var tokenIds = Tokenize(model, texts);
        var m = metadata is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata);
        m.TryAdd("model", model.Directory);
        m.TryAdd("samples", texts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Build(model.ComputeLayerStates, model.NumLayers, model.Config.HiddenSize, model.Config.NumLabels,
            tokenIds, labels, batchSize, m, progress, cancellationToken);
    }

    /// <summary>texts[N] → token ids [N][T_i] ([CLS] … [SEP], truncated to the model's limit), as the model tokenizes at inference.</summary>
    public static int[][] Tokenize(EarlyExitModel model, IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(texts);
        var ids = new int[texts.Count][];
        var buffer = new int[model.MaxTokens];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = buffer.AsSpan(0, model.Tokenize(texts[i], buffer, out _)).ToArray();
        return ids;
    }

    /// <summary>
    /// tokenIds[N] (each a full sequence, [CLS] … [SEP]) and labels[N] → the feature set, computed
    /// <paramref name="batchSize"/> sequences per call of <paramref name="compute"/> (which may use its own threads).
    /// <paramref name="progress"/> receives the number of samples done after each batch.
    /// </summary>
    public static FeatureSet Build(LayerStateFunction compute, int layers, int hidden, int classes,
        IReadOnlyList<int[]> tokenIds, IReadOnlyList<int> labels, int batchSize = 128,
        IReadOnlyDictionary<string, string>? metadata = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(compute);
        ArgumentNullException.ThrowIfNull(tokenIds);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int n = tokenIds.Count;
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} sequences.", nameof(labels));

        var states = new float[layers][];
        for (int l = 0; l < layers; l++) states[l] = new float[(long)n * hidden];
        var finalLogits = new float[(long)n * classes];
        var labelArray = new int[n];
        for (int i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)classes) throw new ArgumentException($"Label {labels[i]} of sample {i} is outside [0, {classes}).", nameof(labels));
            if (tokenIds[i] is null || tokenIds[i].Length == 0) throw new ArgumentException($"Sample {i} has no tokens.", nameof(tokenIds));
            labelArray[i] = labels[i];
        }

        int perSample = layers * hidden;
        var cls = new float[batchSize * perSample];
        var batch = new BatchPacker(tokenIds, batchSize);
        for (int start = 0; start < n; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = batch.Pack(start);
            compute(batch.Tokens, batch.Offsets, cls.AsSpan(0, count * perSample), finalLogits.AsSpan(start * classes, count * classes));
            // [N, L, H] per batch → one [N, H] matrix per layer, so each head trains on contiguous rows.
            for (int i = 0; i < count; i++)
                for (int l = 0; l < layers; l++)
                    cls.AsSpan(i * perSample + l * hidden, hidden).CopyTo(states[l].AsSpan((start + i) * hidden, hidden));
            progress?.Report(start + count);
        }
        return new FeatureSet(hidden, classes, states, labelArray, finalLogits, metadata);
    }
}
