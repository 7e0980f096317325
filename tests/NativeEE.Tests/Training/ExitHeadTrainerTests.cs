using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class ExitHeadTrainerTests
{
    static readonly FeatureSet Train = SyntheticFeatures.Blobs(n: 1200, hidden: 32, classes: 3, layers: 3, seed: 1, separation: 3f, noise: 1.5f);
    static readonly FeatureSet Dev = SyntheticFeatures.Blobs(n: 400, hidden: 32, classes: 3, layers: 3, seed: 2, separation: 3f, noise: 1.5f);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly ExitHeadTrainerOptions Fast = new() { Epochs = 6, BatchSize = 32, LearningRate = 2e-3f, Seed = 5, Threads = 2 };

    [Fact]
    public void LearnsSeparableBlobsAndLossDecreases()
    {
        var result = new ExitHeadTrainer(Fast).Train(Train, [0, 2], Dev, cancellationToken: Ct);
        Assert.Equal([0, 2], result.Exits.Select(e => e.Layer));
        foreach (var e in result.Exits)
        {
            Assert.True(e.EpochLosses[^1] < 0.5 * e.EpochLosses[0], $"layer {e.Layer}: losses {string.Join(", ", e.EpochLosses)}");
            for (int i = 1; i < e.EpochLosses.Count; i++) Assert.True(e.EpochLosses[i] < e.EpochLosses[i - 1] * 1.05, "loss should keep falling");
        }
        // Layer 2 is the better-separated one (separation grows with depth).
        Assert.True(result.Exits[1].DevAccuracy > 0.98, $"dev accuracy {result.Exits[1].DevAccuracy}");
        Assert.True(result.Exits[0].DevAccuracy > 0.85, $"dev accuracy {result.Exits[0].DevAccuracy}");
        Assert.True(result.Exits[1].DevAccuracy >= result.Exits[0].DevAccuracy);
        Assert.Equal(result.Exits[1].DevAccuracy!.Value, result.Exits[1].Head.Accuracy(Dev.LayerStates(2).Span, Dev.Labels.Span));
    }

    [Fact]
    public void LearnsATinySignalOnANearConstantVectorLikeEarlyLayerClsStates()
    {
        // Early-layer [CLS] states: every input gives nearly the same vector (offsets ~0.3, one dimension ~8),
        // the class signal is a 0.1% wiggle on top. Standardising inside the trainer makes that learnable
        // (without it this set stays near chance).
        static FeatureSet Squash(FeatureSet s)
        {
            var x = s.LayerStates(2).ToArray();
            for (int i = 0; i < s.Count; i++)
                for (int j = 0; j < s.Hidden; j++)
                    x[i * s.Hidden + j] = (j == 7 ? 8f : 0.3f * (j % 3 - 1)) + 0.001f * x[i * s.Hidden + j];
            return new FeatureSet(s.Hidden, s.Classes, [x], s.Labels.ToArray(), s.FinalLogits.ToArray());
        }
        var train = Squash(Train);
        var dev = Squash(Dev);
        var e = new ExitHeadTrainer(Fast).Train(train, [0], dev, cancellationToken: Ct).Exits[0];
        Assert.True(e.DevAccuracy > 0.97, $"dev accuracy {e.DevAccuracy}");
        // The returned head reads raw features: its accuracy on them is the reported one.
        Assert.Equal(e.DevAccuracy!.Value, e.Head.Accuracy(dev.LayerStates(0).Span, dev.Labels.Span));
    }

    [Fact]
    public void SameSeedGivesBitIdenticalHeadsOnAnyThreadCount()
    {
        var one = new ExitHeadTrainer(new ExitHeadTrainerOptions { Epochs = 2, BatchSize = 16, Seed = 3, Threads = 1 }).Train(Train, [0, 1, 2], cancellationToken: Ct);
        var two = new ExitHeadTrainer(new ExitHeadTrainerOptions { Epochs = 2, BatchSize = 16, Seed = 3, Threads = 2 }).Train(Train, [2, 0, 1], cancellationToken: Ct);
        var other = new ExitHeadTrainer(new ExitHeadTrainerOptions { Epochs = 2, BatchSize = 16, Seed = 4, Threads = 2 }).Train(Train, [0, 1, 2], cancellationToken: Ct);
        for (int i = 0; i < 3; i++)
        {
            ExitHead a = one.Exits[i].Head, b = two.Exits[i].Head;
            Assert.True(a.PoolerWeight.SequenceEqual(b.PoolerWeight), $"layer {i} pooler differs");
            Assert.True(a.PoolerBias.SequenceEqual(b.PoolerBias));
            Assert.True(a.ClassifierWeight.SequenceEqual(b.ClassifierWeight));
            Assert.True(a.ClassifierBias.SequenceEqual(b.ClassifierBias));
            Assert.Equal(one.Exits[i].EpochLosses, two.Exits[i].EpochLosses);
            Assert.False(a.PoolerWeight.SequenceEqual(other.Exits[i].Head.PoolerWeight), "another seed must give other weights");
        }
    }

    [Theory]
    [InlineData(0.3f, 0f, 0f, 0f)]
    [InlineData(0f, 0.99f, 0f, 0f)]
    [InlineData(0f, 0f, 0.4f, 0f)]
    [InlineData(0f, 0f, 0f, 0.1f)]
    public void RegularisersStillLearnAndStayDeterministic(float dropout, float averaging, float mixup, float smoothing)
    {
        var options = Fast with { Dropout = dropout, WeightAveraging = averaging, Mixup = mixup, LabelSmoothing = smoothing };
        var a = new ExitHeadTrainer(options).Train(Train, [2], Dev, cancellationToken: Ct).Exits[0];
        var b = new ExitHeadTrainer(options with { Threads = 1 }).Train(Train, [2], Dev, cancellationToken: Ct).Exits[0];
        var plain = new ExitHeadTrainer(Fast).Train(Train, [2], cancellationToken: Ct).Exits[0];
        Assert.True(a.DevAccuracy > 0.97, $"dev accuracy {a.DevAccuracy}");
        Assert.True(a.Head.PoolerWeight.SequenceEqual(b.Head.PoolerWeight));
        Assert.False(a.Head.PoolerWeight.SequenceEqual(plain.Head.PoolerWeight));
        Assert.Equal(a.DevAccuracy!.Value, a.Head.Accuracy(Dev.LayerStates(2).Span, Dev.Labels.Span));
    }

    [Fact]
    public void PureDistillationFollowsTheTeacherNotTheLabels()
    {
        // The teacher says "label + 1 (mod C)" with confidence: α = 0 must learn the teacher's mapping.
        var (x, labels, c) = (Train.LayerStates(2).ToArray(), Train.Labels.ToArray(), Train.Classes);
        var teacher = new float[labels.Length * c];
        for (int i = 0; i < labels.Length; i++) teacher[i * c + (labels[i] + 1) % c] = 4f;
        var set = new FeatureSet(Train.Hidden, c, [x], labels, teacher);
        var distilled = new ExitHeadTrainer(Fast with { DistillAlpha = 0f, Temperature = 2f }).Train(set, [0], cancellationToken: Ct).Exits[0].Head;
        var shifted = labels.Select(y => (y + 1) % c).ToArray();
        Assert.True(distilled.Accuracy(x, shifted) > 0.95, "the student should copy the teacher");

        var plain = new ExitHeadTrainer(Fast).Train(set, [0], cancellationToken: Ct).Exits[0].Head;
        Assert.True(plain.Accuracy(x, labels) > 0.95, "α = 1 trains on the labels");
    }

    [Fact]
    public void KeepBestEpochReturnsTheBestDevEpochAndSgdAlsoLearns()
    {
        var options = Fast with { Optimizer = ExitOptimizer.Sgd, LearningRate = 0.05f, Momentum = 0.9f, KeepBestEpoch = true, Schedule = LearningRateSchedule.Cosine, WarmupFraction = 0.1f };
        var e = new ExitHeadTrainer(options).Train(Train, [1], Dev, cancellationToken: Ct).Exits[0];
        Assert.Equal(e.DevAccuracies.Max(), e.DevAccuracy);
        Assert.Equal(e.DevAccuracies.ToList().IndexOf(e.DevAccuracies.Max()) + 1, e.SelectedEpoch);
        Assert.Equal(e.DevAccuracy!.Value, e.Head.Accuracy(Dev.LayerStates(1).Span, Dev.Labels.Span));
        Assert.True(e.DevAccuracy > 0.9, $"SGD dev accuracy {e.DevAccuracy}");
    }

    [Fact]
    public void InitialHeadsAreTheStartingPoint()
    {
        var start = new ExitHeadTrainer(Fast).Train(Train, [2], cancellationToken: Ct).Exits[0].Head;
        var tiny = Fast with { Epochs = 1, LearningRate = 1e-8f };
        var resumed = new ExitHeadTrainer(tiny).Train(Train, [2], initialHeads: new Dictionary<int, ExitHead> { [2] = start }, cancellationToken: Ct).Exits[0].Head;
        var fresh = new ExitHeadTrainer(tiny).Train(Train, [2], cancellationToken: Ct).Exits[0].Head;
        Assert.True(MaxDiff(start.PoolerWeight, resumed.PoolerWeight) < 1e-5f);
        Assert.True(MaxDiff(start.PoolerWeight, fresh.PoolerWeight) > 1e-2f);
        Assert.NotSame(start, resumed);
    }

    [Fact]
    public void RecommendedRecipeIsValidLearnsAndDiffersFromTheDefaultsOnlyWhereDocumented()
    {
        var r = ExitHeadTrainerOptions.Recommended;
        r.Validate();
        Assert.Equal(new ExitHeadTrainerOptions() with { Epochs = 12, WeightDecay = 0.1f, WeightAveraging = 0.9995f }, r);
        // Averaging over ~2000 steps needs the 12 epochs: on this set (38 batches an epoch) it still learns.
        var e = new ExitHeadTrainer(r with { Threads = 1 }).Train(Train, [2], Dev, cancellationToken: Ct).Exits[0];
        Assert.True(e.DevAccuracy > 0.98, $"dev accuracy {e.DevAccuracy}");
    }

    [Fact]
    public void ProgressReportsEveryHeadThroughToTheEnd()
    {
        var reports = new List<ExitTrainingProgress>();
        var sink = new SyncProgress(reports);
        new ExitHeadTrainer(Fast with { Epochs = 2 }).Train(Train, [0, 2], Dev, progress: sink, cancellationToken: Ct);
        foreach (int layer in new[] { 0, 2 })
        {
            var mine = reports.Where(r => r.Layer == layer).ToList();
            Assert.True(mine.Count > 10);
            for (int i = 1; i < mine.Count; i++) Assert.True(mine[i].Fraction > mine[i - 1].Fraction);
            Assert.Equal(1.0, mine[^1].Fraction);
            Assert.Equal(2, mine.Count(r => r.DevAccuracy.HasValue));
        }
    }

    [Fact]
    public void BadRequestsAreRejectedWithTheReason()
    {
        var t = new ExitHeadTrainer(Fast);
        Assert.Contains("layer 3", Assert.Throws<ArgumentOutOfRangeException>(() => t.Train(Train, [0, 3], cancellationToken: Ct)).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => t.Train(Train, [1, 1], cancellationToken: Ct)).Message);
        var noTeacher = new FeatureSet(Train.Hidden, Train.Classes, [Train.LayerStates(0).ToArray()], Train.Labels.ToArray(), []);
        Assert.Contains("final layer's logits", Assert.Throws<ArgumentException>(() => new ExitHeadTrainer(Fast with { DistillAlpha = 0.5f }).Train(noTeacher, [0], cancellationToken: Ct)).Message);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new ExitHeadTrainer(Fast with { LearningRate = 0 })).ParamName);
        Assert.Equal("DistillAlpha", Assert.Throws<ArgumentOutOfRangeException>(() => new ExitHeadTrainer(Fast with { DistillAlpha = 1.5f })).ParamName);
        Assert.Equal("Mixup", Assert.Throws<ArgumentOutOfRangeException>(() => new ExitHeadTrainer(Fast with { Mixup = float.NaN })).ParamName);
        Assert.Equal("LabelSmoothing", Assert.Throws<ArgumentOutOfRangeException>(() => new ExitHeadTrainer(Fast with { LabelSmoothing = 1f })).ParamName);
        Assert.Equal("Dropout", Assert.Throws<ArgumentOutOfRangeException>(() => new ExitHeadTrainer(Fast with { Dropout = 1f })).ParamName);
        Assert.Equal("WeightAveraging", Assert.Throws<ArgumentOutOfRangeException>(() => new ExitHeadTrainer(Fast with { WeightAveraging = -0.5f })).ParamName);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => t.Train(Train, [0, 1], cancellationToken: cts.Token));
    }

    [Fact]
    public void MetadataRecordsTheTrainingFacts()
    {
        var result = new ExitHeadTrainer(Fast with { Epochs = 1, DistillAlpha = 0.5f, Temperature = 2f }).Train(Train, [0, 1], Dev, cancellationToken: Ct);
        var m = result.ToMetadata();
        Assert.Equal("5", m["train.seed"]);
        Assert.Equal("1", m["train.epochs"]);
        Assert.Equal("0.002", m["train.lr"]);
        Assert.Equal("0.5", m["train.distill_alpha"]);
        Assert.Equal("2", m["train.temperature"]);
        Assert.Equal(2, m["train.dev_accuracy"].Split(',').Length);
        Assert.Equal(result.Exits[0].DevAccuracy!.Value, double.Parse(m["train.dev_accuracy"].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture), 1e-6);
    }

    static float MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = MathF.Max(m, MathF.Abs(a[i] - b[i]));
        return m;
    }

    sealed class SyncProgress(List<ExitTrainingProgress> sink) : IProgress<ExitTrainingProgress>
    {
        public void Report(ExitTrainingProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
