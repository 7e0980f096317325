using System.Globalization;

namespace NativeEE.Training;

/// <summary>
/// A "model soup" of exit heads: the element-wise mean of the weights of several head sets trained from the same start
/// (e.g. the model's pooler, <c>--init pooler</c>) with different seeds. The hope is that heads fine-tuned from one
/// starting point stay in one basin, so that their mean is a good head with less seed-to-seed noise. With the default
/// recipe on SST-2 they do not: seeds 1 and 42 end far apart (pooler cosine 0.14–0.24) and their mean is worse than
/// either at every exit (CLI README, "Training exit heads").
/// </summary>
/// <remarks>
/// The mean is taken over the raw heads (what <see cref="ExitsFile"/> stores). The standardisation the trainer folds into
/// each pooler depends only on the training features, not on the seed, and the fold is affine in the weights, so this equals
/// the mean of the heads on standardised features folded once.
/// </remarks>
public static class ExitHeadSoup
{
    static readonly string[] PerSeedKeys = ["train.selected_epochs", "train.final_loss", "train.dev_accuracy"];

    /// <summary>
    /// The element-wise mean of <paramref name="headSets"/> (each by 0-based layer; all with the same layers and shapes),
    /// accumulated in double and rounded once to float.
    /// </summary>
    public static IReadOnlyDictionary<int, ExitHead> Average(IReadOnlyList<IReadOnlyDictionary<int, ExitHead>> headSets)
    {
        ArgumentNullException.ThrowIfNull(headSets);
        if (headSets.Count == 0) throw new ArgumentException("No head sets to average.", nameof(headSets));
        var first = headSets[0];
        if (first.Count == 0) throw new ArgumentException("Head set 0 holds no heads.", nameof(headSets));
        for (int s = 1; s < headSets.Count; s++)
        {
            if (headSets[s].Count != first.Count)
                throw new ArgumentException($"Head set {s} has {headSets[s].Count} heads, head set 0 has {first.Count}.", nameof(headSets));
            foreach (var layer in first.Keys)
                if (!headSets[s].ContainsKey(layer))
                    throw new ArgumentException($"Head set {s} has no head for layer {layer}.", nameof(headSets));
        }

        var result = new SortedDictionary<int, ExitHead>();
        var members = new ExitHead[headSets.Count];
        foreach (var (layer, head0) in first)
        {
            for (int s = 0; s < headSets.Count; s++)
            {
                var h = headSets[s][layer];
                if (h.Hidden != head0.Hidden || h.Classes != head0.Classes)
                    throw new ArgumentException($"Head set {s}, layer {layer} is [H={h.Hidden}, C={h.Classes}], head set 0 is [H={head0.Hidden}, C={head0.Classes}].", nameof(headSets));
                members[s] = h;
            }
            result[layer] = new ExitHead(head0.Hidden, head0.Classes,
                Mean(members, static h => h.PoolerWeightArray), Mean(members, static h => h.PoolerBiasArray),
                Mean(members, static h => h.ClassifierWeightArray), Mean(members, static h => h.ClassifierBiasArray));
        }
        return result;
    }

    /// <summary>
    /// Metadata for the soup's exits file: the shared options (<c>train.*</c>, with <c>train.seed</c> the list of seeds),
    /// <c>train.soup</c>, each seed's final training losses and dev accuracies (<c>train.seed.{seed}.*</c>), the soup's
    /// own dev accuracy per head (<c>train.dev_accuracy</c>, when <paramref name="soupDevAccuracies"/> is given) and the
    /// total training time.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ToMetadata(IReadOnlyList<ExitTrainingResult> seeds, IReadOnlyList<double>? soupDevAccuracies = null)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("No per-seed results.", nameof(seeds));
        var inv = CultureInfo.InvariantCulture;
        var m = new Dictionary<string, string>(seeds[0].Options.ToMetadata());
        var seedList = new string[seeds.Count];
        double seconds = 0;
        for (int s = 0; s < seeds.Count; s++)
        {
            var r = seeds[s];
            string seed = r.Options.Seed.ToString(inv);
            seedList[s] = seed;
            seconds += r.Elapsed.TotalSeconds;
            var perSeed = r.ToMetadata();
            foreach (var key in PerSeedKeys)
                if (perSeed.TryGetValue(key, out var value)) m[$"train.seed.{seed}.{key["train.".Length..]}"] = value;
        }
        m["train.seed"] = string.Join(",", seedList);
        m["train.soup"] = string.Create(inv, $"element-wise mean of {seeds.Count} head sets");
        if (soupDevAccuracies is not null)
        {
            var parts = new string[soupDevAccuracies.Count];
            for (int i = 0; i < parts.Length; i++) parts[i] = soupDevAccuracies[i].ToString("0.######", inv);
            m["train.dev_accuracy"] = string.Join(",", parts);
        }
        m["train.seconds"] = seconds.ToString("0.#", inv);
        return m;
    }

    static float[] Mean(ExitHead[] heads, Func<ExitHead, float[]> tensor)
    {
        int length = tensor(heads[0]).Length;
        var sum = new double[length];
        foreach (var head in heads)
        {
            var values = tensor(head);
            for (int i = 0; i < length; i++) sum[i] += values[i];
        }
        var mean = new float[length];
        double n = heads.Length;
        for (int i = 0; i < length; i++) mean[i] = (float)(sum[i] / n);
        return mean;
    }
}
