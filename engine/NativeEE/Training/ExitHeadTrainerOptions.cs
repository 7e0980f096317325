using System.Globalization;

namespace NativeEE.Training;

/// <summary>Optimizer used by <see cref="ExitHeadTrainer"/>.</summary>
public enum ExitOptimizer
{
    /// <summary>Adam (Kingma &amp; Ba) with decoupled weight decay (AdamW) when <see cref="ExitHeadTrainerOptions.WeightDecay"/> &gt; 0.</summary>
    Adam = 0,
    /// <summary>SGD with (PyTorch-style, non-Nesterov) momentum; weight decay is an L2 term added to the gradient.</summary>
    Sgd = 1,
}

/// <summary>How the learning rate moves over the run (after the linear warm-up).</summary>
public enum LearningRateSchedule
{
    /// <summary>Constant after warm-up.</summary>
    Constant = 0,
    /// <summary>Linear decay to 0 at the last step (BERT fine-tuning's schedule).</summary>
    Linear = 1,
    /// <summary>Half-cosine decay to 0 at the last step.</summary>
    Cosine = 2,
}

/// <summary>Hyper-parameters of DeeBERT stage 2 (exit heads on a frozen backbone). Defaults are the ones the shipped results were measured with.</summary>
public sealed record ExitHeadTrainerOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Mini-batch size.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Optimizer.</summary>
    public ExitOptimizer Optimizer { get; init; } = ExitOptimizer.Adam;

    /// <summary>Adam β1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam β2.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam ε.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>SGD momentum.</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>Weight decay on the two weight matrices (never on biases): decoupled for Adam, L2 for SGD.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Fraction of all steps spent in linear warm-up from 0 to <see cref="LearningRate"/>.</summary>
    public float WarmupFraction { get; init; }

    /// <summary>
    /// Weight α of the hard-label cross-entropy; 1 = plain cross-entropy. Below 1 the rest of the loss is
    /// self-distillation from the final layer (FastBERT): (1 − α)·T²·KL(teacher_T ‖ student_T).
    /// Needs the final layer's logits in the training features.
    /// </summary>
    public float DistillAlpha { get; init; } = 1f;

    /// <summary>Distillation temperature T (both distributions are softened by 1/T; the T² keeps gradient scale).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Seed of initialisation and shuffling; the same seed gives bit-identical heads on any thread count.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Heads trained at once (one thread each; each head's arithmetic is single-threaded, so results do not depend on this).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Decay d of an exponential moving average of the weights (Polyak averaging; 0 = off, typical 0.999): the head
    /// returned, and evaluated on dev, is the average of the recent iterates, which is smoother than the last one.
    /// The decay ramps up as min(d, (1 + t)/(10 + t)) so early steps do not anchor the average to the init.
    /// </summary>
    public float WeightAveraging { get; init; }

    /// <summary>Label smoothing ε: the cross-entropy target is (1 − ε)·one-hot + ε/C.</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>
    /// Mixup (Zhang et al., 2018) on the features: each mini-batch draws λ ~ Beta(a, a) and trains on
    /// λ·x_i + (1 − λ)·x_j with targets (and teacher distributions) mixed alike. a = 0 turns it off; 0.2–0.4 is usual.
    /// </summary>
    public float Mixup { get; init; }

    /// <summary>Dropout probability on the pooled units before the classifier while training (DeeBERT's highway uses 0.1).</summary>
    public float Dropout { get; init; }

    /// <summary>
    /// Train each head on per-dimension standardised features and fold the scaling into the pooler afterwards
    /// (the written head reads raw [CLS] states as usual). Early-layer [CLS] states vary by ~0.1% around a
    /// near-constant vector; without this the early heads train poorly.
    /// </summary>
    public bool Standardize { get; init; } = true;

    /// <summary>With a dev set: keep each head's weights from the epoch with the best dev accuracy instead of the last epoch.</summary>
    public bool KeepBestEpoch { get; init; }

    /// <summary>
    /// The recipe <c>nee train-exits</c> uses by default: 12 epochs, AdamW weight decay 0.1 and Polyak averaging 0.9995
    /// (other settings as the constructor's), every head started from the model's own pooler and classifier
    /// (<c>ExitsFile.LoadModelHead</c> as initial heads), which is how it was measured. On SST-2 it gave the best accuracy at
    /// every exit on the dev rows train.tsv does not contain (<see cref="TrainingOverlap"/>), for seeds 1 and 42, among
    /// 3–8 epochs, dropout 0.1, mixup, label smoothing and self-distillation variants.
    /// </summary>
    public static ExitHeadTrainerOptions Recommended { get; } = new() { Epochs = 12, WeightDecay = 0.1f, WeightAveraging = 0.9995f };

    /// <summary>Checks every option; throws <see cref="ArgumentOutOfRangeException"/> naming the broken one.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be ≥ 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be ≥ 1.");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be a finite number > 0.");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "Beta1 must be in [0, 1).");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "Beta2 must be in [0, 1).");
        if (!(Epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be > 0.");
        if (!(Momentum >= 0 && Momentum < 1)) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "Momentum must be in [0, 1).");
        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be a finite number ≥ 0.");
        if (!(WarmupFraction >= 0 && WarmupFraction < 1)) throw new ArgumentOutOfRangeException(nameof(WarmupFraction), WarmupFraction, "WarmupFraction must be in [0, 1).");
        if (!(WeightAveraging >= 0 && WeightAveraging < 1)) throw new ArgumentOutOfRangeException(nameof(WeightAveraging), WeightAveraging, "WeightAveraging must be in [0, 1).");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1)) throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing, "LabelSmoothing must be in [0, 1).");
        if (!(Mixup >= 0) || !float.IsFinite(Mixup)) throw new ArgumentOutOfRangeException(nameof(Mixup), Mixup, "Mixup must be a finite number ≥ 0.");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        if (!(DistillAlpha >= 0 && DistillAlpha <= 1)) throw new ArgumentOutOfRangeException(nameof(DistillAlpha), DistillAlpha, "DistillAlpha must be in [0, 1].");
        if (!(Temperature > 0) || !float.IsFinite(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite number > 0.");
        if (Threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be ≥ 1.");
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, "Unknown optimizer.");
        if (!Enum.IsDefined(Schedule)) throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "Unknown learning-rate schedule.");
    }

    /// <summary>The settings as <c>train.*</c> metadata entries (invariant culture), recorded in the exits file.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var inv = CultureInfo.InvariantCulture;
        var m = new Dictionary<string, string>
        {
            ["train.seed"] = Seed.ToString(inv),
            ["train.epochs"] = Epochs.ToString(inv),
            ["train.batch_size"] = BatchSize.ToString(inv),
            ["train.optimizer"] = Optimizer == ExitOptimizer.Adam ? "adam" : "sgd",
            ["train.lr"] = LearningRate.ToString("R", inv),
            ["train.schedule"] = Schedule.ToString().ToLowerInvariant(),
            ["train.warmup_fraction"] = WarmupFraction.ToString("R", inv),
            ["train.weight_decay"] = WeightDecay.ToString("R", inv),
            ["train.distill_alpha"] = DistillAlpha.ToString("R", inv),
            ["train.temperature"] = Temperature.ToString("R", inv),
            ["train.keep_best_epoch"] = KeepBestEpoch ? "true" : "false",
            ["train.standardize"] = Standardize ? "true" : "false",
            ["train.dropout"] = Dropout.ToString("R", inv),
            ["train.label_smoothing"] = LabelSmoothing.ToString("R", inv),
            ["train.mixup"] = Mixup.ToString("R", inv),
            ["train.weight_averaging"] = WeightAveraging.ToString("R", inv),
        };
        if (Optimizer == ExitOptimizer.Adam)
        {
            m["train.beta1"] = Beta1.ToString("R", inv);
            m["train.beta2"] = Beta2.ToString("R", inv);
            m["train.eps"] = Epsilon.ToString("R", inv);
        }
        else
        {
            m["train.momentum"] = Momentum.ToString("R", inv);
        }
        return m;
    }

    /// <summary>Learning rate at step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    internal float LearningRateAt(long step, long totalSteps)
    {
        long warmup = (long)(WarmupFraction * totalSteps);
        if (step < warmup) return LearningRate * (step + 1) / (warmup + 1);
        double progress = totalSteps <= warmup ? 0 : (double)(step - warmup) / (totalSteps - warmup);
        double factor = Schedule switch
        {
            LearningRateSchedule.Linear => 1 - progress,
            LearningRateSchedule.Cosine => 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => 1,
        };
        return (float)(LearningRate * factor);
    }
}
