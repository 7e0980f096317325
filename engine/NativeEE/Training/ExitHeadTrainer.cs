using System.Diagnostics;
using NativeEE.Kernels;

namespace NativeEE.Training;

/// <summary>
/// DeeBERT stage 2: trains one exit head per chosen layer on frozen [CLS] features
/// (<see cref="FeatureSet"/>), with cross-entropy or FastBERT-style self-distillation from the final
/// layer, Adam(W) or SGD with momentum, seeded mini-batches.
/// </summary>
/// <remarks>
/// Heads are independent (the features are frozen inputs), so they train concurrently, one per
/// thread; each head's arithmetic is single-threaded and its random streams depend only on
/// (seed, layer), which makes the result bit-identical for a seed whatever the thread count.
/// </remarks>
public sealed class ExitHeadTrainer
{
    /// <summary>Creates a trainer; the options are validated here.</summary>
    public ExitHeadTrainer(ExitHeadTrainerOptions? options = null)
    {
        Options = options ?? new ExitHeadTrainerOptions();
        Options.Validate();
    }

    /// <summary>The settings every head is trained with.</summary>
    public ExitHeadTrainerOptions Options { get; }

    /// <summary>
    /// Trains a head for each layer in <paramref name="exitLayers"/> (0-based encoder layers of
    /// <paramref name="train"/>). <paramref name="dev"/> (same layers, H and C) adds per-epoch dev accuracy
    /// and enables <see cref="ExitHeadTrainerOptions.KeepBestEpoch"/>. <paramref name="initialHeads"/>
    /// (by layer) start training from existing weights instead of a fresh init; layers not in it start fresh.
    /// Progress reports may arrive concurrently from worker threads.
    /// </summary>
    public ExitTrainingResult Train(FeatureSet train, IReadOnlyList<int> exitLayers, FeatureSet? dev = null,
        IReadOnlyDictionary<int, ExitHead>? initialHeads = null, IProgress<ExitTrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(exitLayers);
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));
        if (exitLayers.Count == 0) throw new ArgumentException("No exit layers to train.", nameof(exitLayers));
        var layers = exitLayers.ToArray();
        Array.Sort(layers);
        for (int i = 0; i < layers.Length; i++)
        {
            if ((uint)layers[i] >= (uint)train.Layers)
                throw new ArgumentOutOfRangeException(nameof(exitLayers), layers[i], $"Exit layer {layers[i]} is not in the feature set (layers 0…{train.Layers - 1}).");
            if (i > 0 && layers[i] == layers[i - 1])
                throw new ArgumentException($"Exit layer {layers[i]} is listed twice.", nameof(exitLayers));
        }
        if (Options.DistillAlpha < 1f && !train.HasFinalLogits)
            throw new ArgumentException("Self-distillation (DistillAlpha < 1) needs the final layer's logits in the training features.", nameof(train));
        if (dev is not null)
        {
            if (dev.Hidden != train.Hidden || dev.Classes != train.Classes || dev.Layers != train.Layers)
                throw new ArgumentException($"Dev features are [L={dev.Layers}, H={dev.Hidden}, C={dev.Classes}], training features [L={train.Layers}, H={train.Hidden}, C={train.Classes}].", nameof(dev));
            if (dev.Count == 0) throw new ArgumentException("The dev set is empty.", nameof(dev));
        }
        if (initialHeads is not null)
            foreach (var (layer, head) in initialHeads)
                if (head.Hidden != train.Hidden || head.Classes != train.Classes)
                    throw new ArgumentException($"Initial head for layer {layer} is [H={head.Hidden}, C={head.Classes}], the features [H={train.Hidden}, C={train.Classes}].", nameof(initialHeads));

        var stopwatch = Stopwatch.StartNew();
        var jobs = new HeadJobs(this, train, dev, layers, initialHeads, progress, cancellationToken);
        int threads = Math.Min(Options.Threads, layers.Length);
        if (threads == 1)
        {
            for (int i = 0; i < layers.Length; i++) jobs.Execute(i);
        }
        else
        {
            using var pool = new WorkerPool(threads);
            pool.Run(jobs, layers.Length);
        }
        return new ExitTrainingResult(jobs.Results, Options, stopwatch.Elapsed);
    }

    TrainedExit TrainHead(FeatureSet train, FeatureSet? dev, int layer, ExitHead? initial,
        IProgress<ExitTrainingProgress>? progress, CancellationToken ct)
    {
        var o = Options;
        int n = train.Count, hidden = train.Hidden, classes = train.Classes;
        float[] features = train.LayerStatesArray(layer);
        var scaling = o.Standardize ? FeatureScaling.Fit(features, n, hidden) : null;
        // While training, `head` reads standardised features; Raw() is the head the engine will run.
        var head = initial is null ? ExitHead.CreateRandom(hidden, classes, o.Seed, 2 * layer)
            : scaling is null ? initial.Clone() : scaling.ToStandardized(initial);
        // Polyak averaging: the written head is the running average of the iterates, when enabled.
        var average = o.WeightAveraging > 0 ? head.Clone() : null;
        ExitHead Current() => average ?? head;
        ExitHead Raw() => scaling is null ? Current().Clone() : scaling.ToRaw(Current());
        var shuffle = SeededRandom.Create(o.Seed, 2 * layer + 1);
        int batch = Math.Min(o.BatchSize, n);
        var backprop = new HeadBackprop(hidden, classes, batch, o.Dropout, SeededRandom.Create(o.Seed, 1000 + layer));
        var mixing = SeededRandom.Create(o.Seed, 2000 + layer);
        var loss = new LossSettings(o.DistillAlpha, o.Temperature, o.LabelSmoothing);
        var optimizer = new HeadOptimizer(head, o);
        int[] labels = train.LabelsArray;
        float[] teacher = o.DistillAlpha < 1f ? train.FinalLogitsArray : [];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        int batches = (n + batch - 1) / batch;
        long totalSteps = (long)batches * o.Epochs, step = 0;
        int reportEvery = Math.Max(1, batches / 50);
        var losses = new double[o.Epochs];
        var devAccuracies = dev is null ? [] : new double[o.Epochs];
        ExitHead? best = null;
        int selected = o.Epochs;

        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            shuffle.Shuffle(order);
            double sum = 0;
            for (int s = 0; s < batches; s++)
            {
                ct.ThrowIfCancellationRequested();
                int start = s * batch, count = Math.Min(batch, n - start);
                float lambda = o.Mixup > 0 ? (float)mixing.NextSymmetricBeta(o.Mixup) : 1f;
                double batchLoss = backprop.Compute(head, features, order.AsSpan(start, count), labels, teacher, loss, scaling, lambda);
                if (!double.IsFinite(batchLoss))
                    throw new InvalidOperationException($"Training of the layer-{layer} head diverged (loss {batchLoss} in epoch {epoch}, batch {s + 1}); lower the learning rate.");
                optimizer.Step(head, backprop, o.LearningRateAt(step++, totalSteps));
                if (average is not null) Average(average, head, Math.Min(o.WeightAveraging, (1f + step) / (10f + step)));
                sum += batchLoss * count;
                if (progress is not null && (s + 1) % reportEvery == 0 && s + 1 < batches)
                    progress.Report(new ExitTrainingProgress(layer, epoch, o.Epochs, s + 1, batches, sum / Math.Min(n, start + count), null));
            }
            losses[epoch - 1] = sum / n;
            double? devAccuracy = null;
            if (dev is not null)
            {
                var raw = Raw();
                devAccuracy = devAccuracies[epoch - 1] = raw.Accuracy(dev.LayerStatesArray(layer), dev.LabelsArray);
                if (o.KeepBestEpoch && (best is null || devAccuracy > devAccuracies[selected - 1]))
                {
                    best = raw;
                    selected = epoch;
                }
            }
            progress?.Report(new ExitTrainingProgress(layer, epoch, o.Epochs, batches, batches, losses[epoch - 1], devAccuracy));
        }
        return new TrainedExit(layer, best ?? Raw(), losses, devAccuracies, best is null ? o.Epochs : selected);
    }

    /// <summary>average ← d·average + (1 − d)·head, every tensor.</summary>
    static void Average(ExitHead average, ExitHead head, float decay)
    {
        Blend(average.PoolerWeightArray, head.PoolerWeightArray, decay);
        Blend(average.PoolerBiasArray, head.PoolerBiasArray, decay);
        Blend(average.ClassifierWeightArray, head.ClassifierWeightArray, decay);
        Blend(average.ClassifierBiasArray, head.ClassifierBiasArray, decay);

        static void Blend(Span<float> a, ReadOnlySpan<float> x, float d)
        {
            for (int i = 0; i < a.Length; i++) a[i] = d * a[i] + (1f - d) * x[i];
        }
    }

    /// <summary>The parallel loop over heads: work item i trains the head of layers[i].</summary>
    sealed class HeadJobs(ExitHeadTrainer trainer, FeatureSet train, FeatureSet? dev, int[] layers,
        IReadOnlyDictionary<int, ExitHead>? initialHeads, IProgress<ExitTrainingProgress>? progress, CancellationToken ct) : IParallelWork
    {
        readonly TrainedExit[] _results = new TrainedExit[layers.Length];

        public TrainedExit[] Results => _results;

        public void Execute(int index)
        {
            int layer = layers[index];
            ExitHead? initial = initialHeads is not null && initialHeads.TryGetValue(layer, out var h) ? h : null;
            _results[index] = trainer.TrainHead(train, dev, layer, initial, progress, ct);
        }
    }
}
