using NativeEE.Safetensors;
using NativeEE.Tests;

namespace NativeEE.Cli.Tests;

/// <summary>
/// The PyTorch reference for the first 64 rows of test.tsv (models/minilm-sst2-ee/reference/reference.safetensors):
/// labels and every exit's logits, the independent oracle for what <c>nee</c> prints.
/// </summary>
internal static class Reference
{
    public const int Rows = 64, Layers = 6, Classes = 2;
    static readonly Lazy<(int[] Labels, float[][] Logits)> Data = new(Load);

    public static int[] Labels => Data.Value.Labels;

    /// <summary>Softmax of layer <paramref name="layer"/>'s head logits for row <paramref name="row"/>.</summary>
    public static double[] Probabilities(int row, int layer)
    {
        var z = Data.Value.Logits[layer].AsSpan(row * Classes, Classes);
        double max = Math.Max(z[0], z[1]);
        double e0 = Math.Exp(z[0] - max), e1 = Math.Exp(z[1] - max);
        return [e0 / (e0 + e1), e1 / (e0 + e1)];
    }

    public static int ArgMax(int row, int layer)
    {
        var p = Probabilities(row, layer);
        return p[1] > p[0] ? 1 : 0;
    }

    static (int[], float[][]) Load()
    {
        using var file = SafetensorsFile.Open(Path.Combine(SharedPaths.MiniLm, "reference", "reference.safetensors"));
        var labels = file.ReadFloat32("labels").Select(v => (int)v).ToArray();
        var logits = new float[Layers][];
        for (int l = 0; l < Layers; l++) logits[l] = file.ReadFloat32($"logits.{l}");
        return (labels, logits);
    }

    /// <summary>The first <paramref name="n"/> sentences of test.tsv (the reference rows).</summary>
    public static string[] Sentences(int n) => File.ReadLines(SharedPaths.Sst2("test.tsv")).Skip(1).Take(n).Select(l => l.Split('\t')[0]).ToArray();
}
