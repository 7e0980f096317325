using System.Globalization;
using System.Text.Json;
using NativeEE.Safetensors;

namespace NativeEE.Tests.Engine;

/// <summary>The PyTorch reference outputs for the first 64 rows of test.tsv (reference/reference.safetensors and reference.json).</summary>
public sealed class ReferenceData
{
    public const int Layers = 6, Hidden = 384, Labels = 2;

    static readonly Lazy<ReferenceData> Shared = new(() => new ReferenceData());

    public static ReferenceData Instance => Shared.Value;

    ReferenceData()
    {
        string dir = Path.Combine(SharedPaths.MiniLm, "reference");
        using (var file = SafetensorsModel.Open(SharedPaths.Get("models/minilm-sst2-ee/reference/reference.safetensors")))
        {
            var shape = file.GetInfo("input_ids").Shape;
            int n = shape[0], width = shape[1];
            float[] ids = file.ReadFloat32("input_ids"), mask = file.ReadFloat32("attention_mask");
            Ids = new int[n][];
            for (int i = 0; i < n; i++)
            {
                var row = new List<int>();
                for (int t = 0; t < width; t++) if (mask[i * width + t] == 1f) row.Add((int)ids[i * width + t]);
                Ids[i] = [.. row];
            }
            Cls = new float[Layers][];
            LayerLogits = new float[Layers][];
            for (int l = 0; l < Layers; l++)
            {
                Cls[l] = file.ReadFloat32($"cls.{l}");
                LayerLogits[l] = file.ReadFloat32($"logits.{l}");
            }
        }
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "reference.json")));
        var texts = new List<string>();
        foreach (var e in json.RootElement.EnumerateArray()) texts.Add(e.GetProperty("text").GetString()!);
        Texts = [.. texts];
    }

    public int Count => Ids.Length;

    /// <summary>Token ids per example (padding removed).</summary>
    public int[][] Ids { get; }

    public string[] Texts { get; }

    /// <summary>Cls[l][i·H + j]: [CLS] state of example i after layer l.</summary>
    public float[][] Cls { get; }

    /// <summary>LayerLogits[l][i·C + c]: exit head logits after layer l (l = 5: the model's own classifier).</summary>
    public float[][] LayerLogits { get; }
}

/// <summary>reference/summary.json: per-layer accuracy on test.tsv and the entropy sweep.</summary>
public sealed class ReferenceSummary
{
    static readonly Lazy<ReferenceSummary> Shared = new(() => new ReferenceSummary());

    public static ReferenceSummary Instance => Shared.Value;

    ReferenceSummary()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(SharedPaths.Get("models/minilm-sst2-ee/reference/summary.json")));
        var root = json.RootElement;
        TestAccuracyPerLayer = [.. root.GetProperty("per_layer_accuracy").GetProperty("test").EnumerateArray().Select(e => e.GetDouble())];
        EntropySweep = [.. root.GetProperty("entropy_sweep_test").EnumerateArray().Select(e =>
            (e.GetProperty("entropy_threshold").GetDouble(), e.GetProperty("accuracy").GetDouble(), e.GetProperty("mean_layers").GetDouble()))];
    }

    public double[] TestAccuracyPerLayer { get; }

    public (double Threshold, double Accuracy, double MeanLayers)[] EntropySweep { get; }

    public (double Threshold, double Accuracy, double MeanLayers) Entropy(double threshold)
        => EntropySweep.Single(e => Math.Abs(e.Threshold - threshold) < 1e-6);
}

/// <summary>SST-2 test.tsv with the reference token ids (reference/token_ids.tsv).</summary>
public sealed class EvalSet
{
    static readonly Lazy<EvalSet> Shared = new(() => new EvalSet());

    public static EvalSet Test => Shared.Value;

    EvalSet()
    {
        var texts = new List<string>();
        var labels = new List<int>();
        foreach (var line in File.ReadLines(SharedPaths.Sst2("test.tsv")).Skip(1))
        {
            int tab = line.LastIndexOf('\t');
            texts.Add(line[..tab]);
            labels.Add(int.Parse(line[(tab + 1)..], CultureInfo.InvariantCulture));
        }
        Texts = [.. texts];
        Labels = [.. labels];
        Ids = new int[Texts.Length][];
        foreach (var line in File.ReadLines(SharedPaths.Get("models/minilm-sst2-ee/reference/token_ids.tsv")).Skip(1))
        {
            var parts = line.Split('\t');
            if (parts[0] != "test.tsv") continue;
            Ids[int.Parse(parts[1], CultureInfo.InvariantCulture)] = Array.ConvertAll(parts[2].Split(' '), s => int.Parse(s, CultureInfo.InvariantCulture));
        }
        for (int i = 0; i < Ids.Length; i++)
            if (Ids[i] is null) throw new InvalidDataException($"token_ids.tsv has no ids for test.tsv row {i}.");
        var flat = new List<int>();
        Offsets = new int[Ids.Length + 1];
        for (int i = 0; i < Ids.Length; i++) { flat.AddRange(Ids[i]); Offsets[i + 1] = flat.Count; }
        FlatIds = [.. flat];
    }

    public string[] Texts { get; }
    public int[] Labels { get; }
    public int[][] Ids { get; }

    /// <summary>All ids back to back; sequence i is FlatIds[Offsets[i]..Offsets[i+1]].</summary>
    public int[] FlatIds { get; }
    public int[] Offsets { get; }

    public int Count => Texts.Length;
}
