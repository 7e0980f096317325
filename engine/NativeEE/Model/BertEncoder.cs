using System.Globalization;
using NativeEE.Safetensors;

namespace NativeEE.Model;

/// <summary>
/// The weights of a BERT sequence classifier with its exit heads, validated against the config and packed for
/// the GEMM kernels. Immutable after loading: shared by every call on every thread.
/// </summary>
/// <remarks>
/// Embeddings, LayerNorm parameters and biases are copied out of the safetensors file once (not read zero-copy
/// from the mapping, as DESIGN.md first sketched): the file is then closed after loading, F16/BF16 checkpoints
/// are widened in the same step, and no span over a mapping can outlive a disposed model. The cost is that the
/// word embeddings live in process memory rather than in the evictable page cache.
/// </remarks>
internal sealed class BertEncoder
{
    public const string ExitsFileName = "exits.safetensors";

    BertEncoder(ModelConfig config, Embeddings embeddings, EncoderLayer[] layers, ExitHead?[] heads)
    {
        Config = config;
        Embeddings = embeddings;
        Layers = layers;
        Heads = heads;
        ExitOrdinal = new int[heads.Length];
        for (int l = 0; l < heads.Length; l++) ExitOrdinal[l] = heads[l] is null ? -1 : ExitCount++;
    }

    public ModelConfig Config { get; }

    public Embeddings Embeddings { get; }

    public EncoderLayer[] Layers { get; }

    /// <summary>Heads[l] reads the output of layer l; null where the model has no exit. The last entry is the model's own classifier.</summary>
    public ExitHead?[] Heads { get; }

    /// <summary>Number of heads, the final classifier included.</summary>
    public int ExitCount { get; }

    /// <summary>ExitOrdinal[l]: position of layer l's head among all heads, or −1.</summary>
    public int[] ExitOrdinal { get; }

    /// <summary>Loads <c>model.safetensors</c> (or its sharded index) and, if present, <c>exits.safetensors</c> from <paramref name="directory"/>.</summary>
    public static BertEncoder Load(ModelConfig config, string directory, string configPath)
    {
        string single = Path.Combine(directory, "model.safetensors");
        string index = Path.Combine(directory, "model.safetensors.index.json");
        string modelPath = File.Exists(single) ? single : File.Exists(index) ? index
            : throw new ModelLoadException($"model.safetensors is missing: neither {single} nor {index} exists.", single);

        int layerCount = config.NumHiddenLayers, h = config.HiddenSize, c = config.NumLabels;
        Embeddings embeddings;
        var layers = new EncoderLayer[layerCount];
        var heads = new ExitHead?[layerCount];
        using (var model = OpenSafetensors(modelPath))
        {
            var tensors = new TensorSource(model, modelPath, configPath);
            // BertForSequenceClassification writes "bert.…"; a bare BertModel export has no prefix.
            string prefix = tensors.Contains("bert.embeddings.word_embeddings.weight") || !tensors.Contains("embeddings.word_embeddings.weight") ? "bert." : "";
            if (tensors.Contains($"{prefix}encoder.layer.{layerCount}.attention.self.query.weight"))
                throw new ModelLoadException($"{Path.GetFileName(modelPath)} has encoder layer {layerCount} but {Path.GetFileName(configPath)} says num_hidden_layers = {layerCount}. File: {modelPath}",
                    modelPath, $"{prefix}encoder.layer.{layerCount}.attention.self.query.weight");
            embeddings = new Embeddings(config, tensors, prefix);
            for (int l = 0; l < layerCount; l++) layers[l] = new EncoderLayer(config, tensors, $"{prefix}encoder.layer.{l}.");
            heads[layerCount - 1] = new ExitHead(layerCount - 1, h, c,
                tensors.Read($"{prefix}pooler.dense.weight", "hidden_size", h, h),
                tensors.Read($"{prefix}pooler.dense.bias", "hidden_size", h),
                tensors.Read("classifier.weight", "num_labels (id2label), hidden_size", c, h),
                tensors.Read("classifier.bias", "num_labels (id2label)", c));
        }

        string exitsPath = Path.Combine(directory, ExitsFileName);
        if (File.Exists(exitsPath)) LoadExitHeads(config, exitsPath, configPath, heads);
        return new BertEncoder(config, embeddings, layers, heads);
    }

    static SafetensorsModel OpenSafetensors(string path)
    {
        try { return SafetensorsModel.Open(path); }
        catch (SafetensorsException e) { throw new ModelLoadException($"{Path.GetFileName(path)} is not a valid safetensors file: {e.Message}", path, null, e); }
        catch (IOException e) { throw new ModelLoadException($"{Path.GetFileName(path)} cannot be read: {e.Message}", path, null, e); }
    }

    /// <summary>exits.{i}.pooler.weight [H,H], .pooler.bias [H], .classifier.weight [C,H], .classifier.bias [C] for layers i before the last.</summary>
    static void LoadExitHeads(ModelConfig config, string path, string configPath, ExitHead?[] heads)
    {
        int layerCount = heads.Length, h = config.HiddenSize, c = config.NumLabels;
        using var file = OpenSafetensors(path);
        var tensors = new TensorSource(file, path, configPath);
        var found = new SortedSet<int>();
        foreach (var info in file.Tensors)
        {
            int layer = ParseExitLayer(info.Name, path);
            if (layer >= layerCount - 1)
                throw new ModelLoadException($"{ExitsFileName}: tensor '{info.Name}' is a head after layer {layer}, but exits must come before the last layer ({layerCount - 1}; its exit is the model's own classifier). File: {path}", path, info.Name);
            found.Add(layer);
        }
        if (found.Count == 0)
            throw new ModelLoadException($"{ExitsFileName} holds no exit heads (expected tensors exits.{{i}}.pooler.weight …). File: {path}", path);
        if (file.Metadata.TryGetValue("exit_layers", out string? listed))
        {
            string actual = string.Join(",", found);
            if (Normalize(listed) != actual)
                throw new ModelLoadException($"{ExitsFileName}: metadata exit_layers = '{listed}' but the file holds heads for layers {actual}. File: {path}", path);
        }
        foreach (int l in found)
        {
            string p = $"exits.{l}.";
            heads[l] = new ExitHead(l, h, c,
                tensors.Read(p + "pooler.weight", "hidden_size", h, h),
                tensors.Read(p + "pooler.bias", "hidden_size", h),
                tensors.Read(p + "classifier.weight", "num_labels (id2label), hidden_size", c, h),
                tensors.Read(p + "classifier.bias", "num_labels (id2label)", c));
        }
    }

    static string Normalize(string list)
    {
        var parts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var numbers = new SortedSet<int>();
        foreach (var s in parts) numbers.Add(int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : -1);
        return string.Join(",", numbers);
    }

    static int ParseExitLayer(string name, string path)
    {
        // exits.{i}.{pooler|classifier}.{weight|bias}
        var parts = name.Split('.');
        if (parts.Length == 4 && parts[0] == "exits" && parts[2] is ("pooler" or "classifier") && parts[3] is ("weight" or "bias")
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int layer))
            return layer;
        throw new ModelLoadException($"{ExitsFileName}: unexpected tensor '{name}'; exit heads are named exits.{{layer}}.pooler.weight|bias and exits.{{layer}}.classifier.weight|bias. File: {path}", path, name);
    }
}
