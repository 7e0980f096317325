using System.Globalization;
using NativeEE.Safetensors;

namespace NativeEE.Model;

/// <summary>
/// The weights of a BERT sequence classifier with its exit heads, validated against the config and packed for
/// the GEMM kernels. Immutable after loading: shared by every call on every thread.
/// </summary>
/// <remarks>
/// Embeddings, LayerNorm parameters and biases are read zero-copy from the memory-mapped safetensors files, which
/// stay open for the model's lifetime (<see cref="ModelMemory"/>): a call touches only the embedding rows of its
/// tokens, and the tables live in the evictable page cache, shared between processes. Only non-F32 tensors are
/// widened into a copy. The GEMM weights are packed for the active ISA path, or mapped from a
/// <see cref="PackedWeightCache"/> file written by an earlier load.
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

    /// <summary>
    /// Loads <c>model.safetensors</c> (or its sharded index) and, if present, <c>exits.safetensors</c> from
    /// <paramref name="directory"/>. The files' mappings (and the cache's) go to <paramref name="memory"/>, which the
    /// caller disposes — also when this throws. With a <paramref name="cacheDirectory"/>, the packed weights are
    /// mapped from the cache file if it is valid for these files, else packed and written there (best effort).
    /// </summary>
    public static BertEncoder Load(ModelConfig config, string directory, string configPath, string? cacheDirectory, ModelMemory memory,
        out WeightCacheStatus cacheStatus, out string? cachePath)
    {
        string single = Path.Combine(directory, "model.safetensors");
        string index = Path.Combine(directory, "model.safetensors.index.json");
        string modelPath = File.Exists(single) ? single : File.Exists(index) ? index
            : throw new ModelLoadException($"model.safetensors is missing: neither {single} nor {index} exists.", single);
        var model = memory.Own(OpenSafetensors(modelPath));
        string exitsPath = Path.Combine(directory, ExitsFileName);
        var exits = File.Exists(exitsPath) ? memory.Own(OpenSafetensors(exitsPath)) : null;

        cachePath = null;
        if (cacheDirectory is null)
        {
            cacheStatus = WeightCacheStatus.Disabled;
            return Build(config, model, modelPath, exits, exitsPath, configPath, new PackedWeights(null));
        }

        var isa = Kernels.Isa.Active;
        cachePath = PackedWeightCache.PathFor(cacheDirectory, directory, isa);
        var sources = new List<SafetensorsFile>(model.Files);
        if (exits is not null) sources.AddRange(exits.Files);
        string key = PackedWeightCache.Key(isa, sources);
        cacheStatus = WeightCacheStatus.Replaced;
        PackedWeightCache? cache = null;
        try
        {
            cache = PackedWeightCache.Open(cachePath, key, isa);
            var mapped = Build(config, model, modelPath, exits, exitsPath, configPath, new PackedWeights(cache));
            cache.CheckAllUsed();
            memory.Own(cache);
            cacheStatus = WeightCacheStatus.Mapped;
            return mapped;
        }
        catch (PackedWeightCacheException e)
        {
            cache?.Dispose();
            if (e.Problem == PackedWeightCacheProblem.Missing) cacheStatus = WeightCacheStatus.Created;
        }
        catch
        {
            cache?.Dispose();
            throw;
        }

        var packed = new PackedWeights(null);
        var encoder = Build(config, model, modelPath, exits, exitsPath, configPath, packed);
        try
        {
            PackedWeightCache.Write(cachePath, key, isa, packed.Packed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache is an optimisation: a read-only or full disk must not stop the model from loading.
            cacheStatus = WeightCacheStatus.Unwritable;
        }
        return encoder;
    }

    static BertEncoder Build(ModelConfig config, SafetensorsModel model, string modelPath, SafetensorsModel? exits, string exitsPath, string configPath,
        PackedWeights packed)
    {
        int layerCount = config.NumHiddenLayers, h = config.HiddenSize, c = config.NumLabels;
        var layers = new EncoderLayer[layerCount];
        var heads = new ExitHead?[layerCount];
        var tensors = new TensorSource(model, modelPath, configPath, packed);
        // BertForSequenceClassification writes "bert.…"; a bare BertModel export has no prefix.
        string prefix = tensors.Contains("bert.embeddings.word_embeddings.weight") || !tensors.Contains("embeddings.word_embeddings.weight") ? "bert." : "";
        if (tensors.Contains($"{prefix}encoder.layer.{layerCount}.attention.self.query.weight"))
            throw new ModelLoadException($"{Path.GetFileName(modelPath)} has encoder layer {layerCount} but {Path.GetFileName(configPath)} says num_hidden_layers = {layerCount}. File: {modelPath}",
                modelPath, $"{prefix}encoder.layer.{layerCount}.attention.self.query.weight");
        var embeddings = new Embeddings(config, tensors, prefix);
        for (int l = 0; l < layerCount; l++) layers[l] = new EncoderLayer(config, tensors, $"{prefix}encoder.layer.{l}.");
        heads[layerCount - 1] = ExitHead.Read(tensors, layerCount - 1, h, c, $"{prefix}pooler.dense.", "classifier.");
        if (exits is not null) LoadExitHeads(config, exits, exitsPath, configPath, packed, heads);
        return new BertEncoder(config, embeddings, layers, heads);
    }

    static SafetensorsModel OpenSafetensors(string path)
    {
        try { return SafetensorsModel.Open(path); }
        catch (SafetensorsException e) { throw new ModelLoadException($"{Path.GetFileName(path)} is not a valid safetensors file: {e.Message}", path, null, e); }
        catch (IOException e) { throw new ModelLoadException($"{Path.GetFileName(path)} cannot be read: {e.Message}", path, null, e); }
    }

    /// <summary>exits.{i}.pooler.weight [H,H], .pooler.bias [H], .classifier.weight [C,H], .classifier.bias [C] for layers i before the last.</summary>
    static void LoadExitHeads(ModelConfig config, SafetensorsModel file, string path, string configPath, PackedWeights packed, ExitHead?[] heads)
    {
        int layerCount = heads.Length, h = config.HiddenSize, c = config.NumLabels;
        var tensors = new TensorSource(file, path, configPath, packed);
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
            heads[l] = ExitHead.Read(tensors, l, h, c, $"exits.{l}.pooler.", $"exits.{l}.classifier.");
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
