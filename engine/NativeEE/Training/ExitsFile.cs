using System.Globalization;
using NativeEE.Safetensors;

namespace NativeEE.Training;

/// <summary>
/// Reads and writes <c>exits.safetensors</c> (DESIGN.md): per exit layer i, <c>exits.{i}.pooler.weight [H,H]</c>,
/// <c>exits.{i}.pooler.bias [H]</c>, <c>exits.{i}.classifier.weight [C,H]</c>, <c>exits.{i}.classifier.bias [C]</c>,
/// all F32; metadata <c>format=nativeee-exits</c> and <c>exit_layers=0,1,…</c>.
/// </summary>
public static class ExitsFile
{
    /// <summary>The file name the engine looks for beside <c>model.safetensors</c>.</summary>
    public const string FileName = "exits.safetensors";

    /// <summary>Value of the <c>format</c> metadata entry.</summary>
    public const string Format = "nativeee-exits";

    /// <summary>
    /// Writes <paramref name="heads"/> (by 0-based encoder layer) to <paramref name="path"/>, replacing it atomically.
    /// <paramref name="metadata"/> (e.g. <see cref="ExitTrainingResult.ToMetadata"/>) is stored beside
    /// <c>format</c> and <c>exit_layers</c>, which it may not override.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<int, ExitHead> heads, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0) throw new ArgumentException("No exit heads to write.", nameof(heads));
        var layers = heads.Keys.Order().ToArray();
        var first = heads[layers[0]];
        var writer = new SafetensorsWriter();
        foreach (int layer in layers)
        {
            var head = heads[layer];
            if (layer < 0) throw new ArgumentOutOfRangeException(nameof(heads), layer, "Exit layers are 0-based encoder layer indices.");
            if (head.Hidden != first.Hidden || head.Classes != first.Classes)
                throw new ArgumentException($"Exit head {layer} is [H={head.Hidden}, C={head.Classes}], head {layers[0]} is [H={first.Hidden}, C={first.Classes}]; one file holds one shape.", nameof(heads));
            int h = head.Hidden, c = head.Classes;
            writer.Add(Name(layer, "pooler.weight"), head.PoolerWeight, h, h);
            writer.Add(Name(layer, "pooler.bias"), head.PoolerBias, h);
            writer.Add(Name(layer, "classifier.weight"), head.ClassifierWeight, c, h);
            writer.Add(Name(layer, "classifier.bias"), head.ClassifierBias, c);
        }
        if (metadata is not null)
            foreach (var (key, value) in metadata)
            {
                if (key is "format" or "exit_layers")
                    throw new ArgumentException($"Metadata key '{key}' is written by ExitsFile itself.", nameof(metadata));
                writer.Metadata[key] = value;
            }
        writer.Metadata["format"] = Format;
        writer.Metadata["exit_layers"] = string.Join(",", layers.Select(l => l.ToString(CultureInfo.InvariantCulture)));
        writer.Save(path);
    }

    /// <summary>
    /// The heads in an exits file, by layer. The layers come from the <c>exit_layers</c> metadata, or from
    /// the tensor names when it is absent.
    /// </summary>
    /// <exception cref="SafetensorsException">Wrong format tag, a missing tensor, a non-F32 tensor, or shapes that disagree; the message names the file and tensor.</exception>
    public static IReadOnlyDictionary<int, ExitHead> Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return Read(file);
    }

    /// <summary><see cref="Load(string)"/> on a file that is already open (its metadata stays readable on <paramref name="file"/>).</summary>
    public static IReadOnlyDictionary<int, ExitHead> Read(SafetensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Metadata.TryGetValue("format", out var format) && format != Format)
            throw new SafetensorsException(file.Path, null, $"metadata format is '{format}', expected '{Format}'");
        var layers = new SortedSet<int>();
        if (file.Metadata.TryGetValue("exit_layers", out var list))
        {
            foreach (var part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int l) || !layers.Add(l))
                    throw new SafetensorsException(file.Path, null, $"metadata exit_layers '{list}' is not a list of distinct layer indices ≥ 0");
        }
        else
        {
            foreach (var t in file.Tensors)
                if (t.Name.StartsWith("exits.", StringComparison.Ordinal) && t.Name.EndsWith(".pooler.weight", StringComparison.Ordinal)
                    && int.TryParse(t.Name.AsSpan(6, t.Name.Length - 6 - ".pooler.weight".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int l))
                    layers.Add(l);
        }
        if (layers.Count == 0) throw new SafetensorsException(file.Path, null, "holds no exit heads (no exits.{i}.pooler.weight tensors)");

        var heads = new SortedDictionary<int, ExitHead>();
        int hidden = -1, classes = -1;
        foreach (int layer in layers)
        {
            string wName = Name(layer, "pooler.weight");
            var w = Shape(file, wName, 2);
            if (w[0] != w[1]) throw new SafetensorsException(file.Path, wName, $"shape [{w[0]}, {w[1]}] is not square [H, H]");
            var cw = Shape(file, Name(layer, "classifier.weight"), 2);
            if (hidden < 0) (hidden, classes) = (w[0], cw[0]);
            if (w[0] != hidden) throw new SafetensorsException(file.Path, wName, $"H = {w[0]} but earlier heads have H = {hidden}");
            if (cw[0] != classes || cw[1] != hidden)
                throw new SafetensorsException(file.Path, Name(layer, "classifier.weight"), $"shape [{cw[0]}, {cw[1]}], expected [C={classes}, H={hidden}]");
            Expect(file, Name(layer, "pooler.bias"), hidden);
            Expect(file, Name(layer, "classifier.bias"), classes);
            if (classes < 2) throw new SafetensorsException(file.Path, Name(layer, "classifier.weight"), $"has {classes} class; a classifier needs at least 2");
            heads[layer] = new ExitHead(hidden, classes, file.GetSpan<float>(wName), file.GetSpan<float>(Name(layer, "pooler.bias")),
                file.GetSpan<float>(Name(layer, "classifier.weight")), file.GetSpan<float>(Name(layer, "classifier.bias")));
        }
        return heads;
    }

    /// <summary>
    /// The model's own final head — <c>bert.pooler.dense</c> + <c>classifier</c> — from a Hugging Face
    /// <c>model.safetensors</c> (or the folder holding it), e.g. to start exit heads from it.
    /// </summary>
    public static ExitHead LoadModelHead(string modelPath)
    {
        string path = Directory.Exists(modelPath) ? Path.Combine(modelPath, "model.safetensors") : modelPath;
        using var file = SafetensorsFile.Open(path);
        string wName = file.Contains("bert.pooler.dense.weight") ? "bert.pooler.dense.weight" : "pooler.dense.weight";
        string prefix = wName[..^"dense.weight".Length];
        var w = Shape(file, wName, 2, requireF32: false);
        var cw = Shape(file, "classifier.weight", 2, requireF32: false);
        if (w[0] != w[1] || cw[1] != w[0] || cw[0] < 2)
            throw new SafetensorsException(file.Path, "classifier.weight", $"shape [{cw[0]}, {cw[1]}] does not fit the pooler [{w[0]}, {w[1]}] as [C ≥ 2, H]");
        Expect(file, prefix + "dense.bias", w[0], requireF32: false);
        Expect(file, "classifier.bias", cw[0], requireF32: false);
        return new ExitHead(w[0], cw[0], file.ReadFloat32(wName), file.ReadFloat32(prefix + "dense.bias"),
            file.ReadFloat32("classifier.weight"), file.ReadFloat32("classifier.bias"));
    }

    static string Name(int layer, string tensor) => $"exits.{layer.ToString(CultureInfo.InvariantCulture)}.{tensor}";

    static int[] Shape(SafetensorsFile file, string name, int rank, bool requireF32 = true)
    {
        if (!file.Contains(name)) throw new SafetensorsException(file.Path, name, "is missing");
        var info = file.GetInfo(name);
        if (requireF32 ? info.DType != SafetensorsDType.F32 : info.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16))
            throw new SafetensorsException(file.Path, name, $"dtype {info.DType}, expected {(requireF32 ? "F32" : "F32, F16 or BF16")}");
        if (info.Shape.Length != rank) throw new SafetensorsException(file.Path, name, $"rank {info.Shape.Length}, expected {rank}");
        return info.Shape;
    }

    static void Expect(SafetensorsFile file, string name, int length, bool requireF32 = true)
    {
        var s = Shape(file, name, 1, requireF32);
        if (s[0] != length) throw new SafetensorsException(file.Path, name, $"shape [{s[0]}], expected [{length}]");
    }
}
