using System.Globalization;

namespace NativeEE.Training;

/// <summary>A progress report of <see cref="ExitHeadTrainer"/>. May arrive on worker threads (heads train concurrently).</summary>
/// <param name="Layer">Encoder layer (0-based) of the head being trained.</param>
/// <param name="Epoch">Current epoch, 1-based.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Batch">Mini-batches finished in this epoch.</param>
/// <param name="BatchesPerEpoch">Mini-batches per epoch.</param>
/// <param name="MeanLoss">Mean training loss over this epoch's finished batches.</param>
/// <param name="DevAccuracy">Dev accuracy after the epoch (only on the end-of-epoch report, and only with a dev set).</param>
public readonly record struct ExitTrainingProgress(int Layer, int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double MeanLoss, double? DevAccuracy)
{
    /// <summary>Fraction of this head's training done, in [0, 1].</summary>
    public double Fraction => ((Epoch - 1) * (double)BatchesPerEpoch + Batch) / ((double)Epochs * BatchesPerEpoch);
}

/// <summary>One trained head and how it got there.</summary>
public sealed class TrainedExit
{
    internal TrainedExit(int layer, ExitHead head, double[] epochLosses, double[] devAccuracies, int selectedEpoch)
    {
        Layer = layer;
        Head = head;
        EpochLosses = epochLosses;
        DevAccuracies = devAccuracies;
        SelectedEpoch = selectedEpoch;
    }

    /// <summary>Encoder layer (0-based) the head reads.</summary>
    public int Layer { get; }

    /// <summary>The trained head.</summary>
    public ExitHead Head { get; }

    /// <summary>Mean training loss of every epoch (while the weights moved).</summary>
    public IReadOnlyList<double> EpochLosses { get; }

    /// <summary>Dev accuracy after every epoch; empty without a dev set.</summary>
    public IReadOnlyList<double> DevAccuracies { get; }

    /// <summary>The epoch (1-based) whose weights <see cref="Head"/> holds.</summary>
    public int SelectedEpoch { get; }

    /// <summary>Dev accuracy of <see cref="Head"/>, or null without a dev set.</summary>
    public double? DevAccuracy => DevAccuracies.Count == 0 ? null : DevAccuracies[SelectedEpoch - 1];
}

/// <summary>The heads from one <see cref="ExitHeadTrainer.Train"/> call, in ascending layer order.</summary>
public sealed class ExitTrainingResult
{
    internal ExitTrainingResult(IReadOnlyList<TrainedExit> exits, ExitHeadTrainerOptions options, TimeSpan elapsed)
    {
        Exits = exits;
        Options = options;
        Elapsed = elapsed;
    }

    /// <summary>One entry per trained head, ascending by layer.</summary>
    public IReadOnlyList<TrainedExit> Exits { get; }

    /// <summary>The trained heads by layer (for <c>ExitsFile.Save</c> or calibration).</summary>
    public IReadOnlyDictionary<int, ExitHead> Heads => Exits.ToDictionary(e => e.Layer, e => e.Head);

    /// <summary>The settings used.</summary>
    public ExitHeadTrainerOptions Options { get; }

    /// <summary>Wall-clock training time.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// Training facts for the exits file: every option (<c>train.*</c>), each head's selected epoch and
    /// final training loss, and dev accuracies when a dev set was given (comma-separated, in layer order).
    /// </summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var inv = CultureInfo.InvariantCulture;
        var m = new Dictionary<string, string>(Options.ToMetadata());
        m["train.selected_epochs"] = string.Join(",", Exits.Select(e => e.SelectedEpoch.ToString(inv)));
        m["train.final_loss"] = string.Join(",", Exits.Select(e => e.EpochLosses[^1].ToString("0.######", inv)));
        if (Exits.Count > 0 && Exits.All(e => e.DevAccuracy.HasValue))
            m["train.dev_accuracy"] = string.Join(",", Exits.Select(e => e.DevAccuracy!.Value.ToString("0.######", inv)));
        m["train.seconds"] = Elapsed.TotalSeconds.ToString("0.#", inv);
        return m;
    }
}
