using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NativeEE;

/// <summary>
/// The typed, validated subset of a Hugging Face <c>config.json</c> (BertConfig) that the encoder needs.
/// Read with <see cref="Utf8JsonReader"/> (no reflection, AOT-safe). Unknown fields are ignored;
/// a missing or invalid required field, or anything NativeEE would run wrongly (another model type,
/// another activation, relative position embeddings), is refused with a <see cref="ModelConfigException"/>
/// that names the field and the rule.
/// </summary>
public sealed class ModelConfig
{
    /// <summary>Upper bound on widths (hidden, FFN, heads): keeps every size product of a layer inside 64-bit
    /// arithmetic with room to spare, and no real BERT comes near it.</summary>
    public const int MaxWidth = 1 << 16;

    /// <summary>Upper bound on vocabulary, positions and token types.</summary>
    public const int MaxTableRows = 1 << 24;

    /// <summary>The file (or name) this config was read from; used in later error messages.</summary>
    public string SourceName { get; }

    /// <summary>Always "bert" (absent in the file means bert, as older BertConfig dumps omit it).</summary>
    public string ModelType { get; }
    public int HiddenSize { get; }
    public int NumHiddenLayers { get; }
    public int NumAttentionHeads { get; }
    public int IntermediateSize { get; }
    public int MaxPositionEmbeddings { get; }
    public int TypeVocabSize { get; }
    public int VocabSize { get; }
    public int PadTokenId { get; }
    public float LayerNormEps { get; }

    /// <summary>Always "gelu" (the exact, erf-based GELU); other activations are refused at load.</summary>
    public string HiddenAct { get; }

    /// <summary>Class names ordered by id: from <c>id2label</c>, else "LABEL_0".. for <c>num_labels</c> (default 2).</summary>
    public IReadOnlyList<string> Labels { get; }

    public int NumLabels => Labels.Count;
    public int HeadDim => HiddenSize / NumAttentionHeads;

    ModelConfig(string sourceName, string modelType, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
        int intermediateSize, int maxPositionEmbeddings, int typeVocabSize, int vocabSize, int padTokenId,
        float layerNormEps, string hiddenAct, string[] labels)
    {
        SourceName = sourceName;
        ModelType = modelType;
        HiddenSize = hiddenSize;
        NumHiddenLayers = numHiddenLayers;
        NumAttentionHeads = numAttentionHeads;
        IntermediateSize = intermediateSize;
        MaxPositionEmbeddings = maxPositionEmbeddings;
        TypeVocabSize = typeVocabSize;
        VocabSize = vocabSize;
        PadTokenId = padTokenId;
        LayerNormEps = layerNormEps;
        HiddenAct = hiddenAct;
        Labels = Array.AsReadOnly(labels);
    }

    /// <summary>Reads and validates <paramref name="configJsonPath"/> (a <c>config.json</c>).</summary>
    public static ModelConfig Load(string configJsonPath)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(configJsonPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelConfigException(configJsonPath, null, "file not found (a Hugging Face model folder needs config.json)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelConfigException(configJsonPath, null, $"cannot be read: {e.Message}", e);
        }
        return Parse(bytes, configJsonPath);
    }

    /// <summary>Parses and validates UTF-8 config JSON; <paramref name="sourceName"/> is used in error messages.</summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> utf8Json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        var raw = RawFields.Read(utf8Json, sourceName);
        return Validate(raw, sourceName);
    }

    static ModelConfig Validate(RawFields raw, string src)
    {
        string modelType = raw.ModelType ?? "bert";
        if (modelType != "bert")
        {
            string why = modelType switch
            {
                "roberta" or "xlm-roberta" or "camembert" =>
                    "RoBERTa-family models number positions from padding_idx + 1 and use another tokenizer, so running them as BERT would give wrong outputs",
                "distilbert" => "DistilBERT uses different tensor names and has no token type embeddings",
                "albert" => "ALBERT shares layers and factorises embeddings",
                "electra" => "ELECTRA uses a different embedding projection and classifier head",
                _ => "it is not a BERT encoder",
            };
            throw new ModelConfigException(src, "model_type", $"'{modelType}' is not supported ({why}); supported: \"bert\"");
        }

        if (raw.PositionEmbeddingType is string pet && pet != "absolute")
            throw new ModelConfigException(src, "position_embedding_type",
                $"'{pet}' is not supported; supported: \"absolute\" (learned absolute position embeddings)");

        int hidden = Required(raw.HiddenSize, src, "hidden_size", 1, MaxWidth);
        int layers = Required(raw.NumHiddenLayers, src, "num_hidden_layers", 1, 1024);
        int heads = Required(raw.NumAttentionHeads, src, "num_attention_heads", 1, MaxWidth);
        int ffn = Required(raw.IntermediateSize, src, "intermediate_size", 1, MaxWidth);
        int vocab = Required(raw.VocabSize, src, "vocab_size", 1, MaxTableRows);
        // [CLS] and [SEP] alone take two positions.
        int positions = Required(raw.MaxPositionEmbeddings, src, "max_position_embeddings", 2, MaxTableRows);
        int typeVocab = Optional(raw.TypeVocabSize, src, "type_vocab_size", 2, 1, MaxTableRows);
        int pad = Optional(raw.PadTokenId, src, "pad_token_id", 0, 0, vocab - 1);

        if (hidden % heads != 0)
            throw new ModelConfigException(src, "num_attention_heads",
                $"hidden_size {hidden} is not divisible by num_attention_heads {heads} (each head needs hidden_size / heads dimensions)");

        float eps = 1e-12f;
        if (raw.LayerNormEps is double e)
        {
            if (!double.IsFinite(e) || e <= 0 || e > 1)
                throw new ModelConfigException(src, "layer_norm_eps", $"must be a number in (0, 1], got {raw.LayerNormEpsText}");
            eps = (float)e;
        }

        string act = raw.HiddenAct ?? "gelu";
        if (act != "gelu")
        {
            string why = act switch
            {
                "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" or "gelu_accurate" =>
                    "the tanh-approximated GELU is not implemented yet, and running the erf GELU instead would change the outputs",
                _ => "running another activation would give wrong outputs",
            };
            throw new ModelConfigException(src, "hidden_act", $"'{act}' is not supported ({why}); supported: \"gelu\" (exact, erf-based)");
        }

        string[] labels;
        if (raw.Id2Label is { } map)
        {
            labels = LabelsFromMap(map, src);
            if (raw.NumLabels is long n && n != labels.Length)
                throw new ModelConfigException(src, "num_labels", $"is {n} but id2label has {labels.Length} entries; they must agree");
        }
        else
        {
            int n = Optional(raw.NumLabels, src, "num_labels", 2, 1, 1 << 20);
            labels = new string[n];
            for (int i = 0; i < n; i++) labels[i] = "LABEL_" + i.ToString(CultureInfo.InvariantCulture);
        }

        return new ModelConfig(src, modelType, hidden, layers, heads, ffn, positions, typeVocab, vocab, pad, eps, act, labels);
    }

    static string[] LabelsFromMap(List<(string Key, string Label)> map, string src)
    {
        if (map.Count == 0)
            throw new ModelConfigException(src, "id2label", "is empty; a classifier needs at least one label");
        var labels = new string?[map.Count];
        foreach (var (key, label) in map)
        {
            // Keys are JSON object names: the decimal ids "0".."C-1", as PretrainedConfig writes them.
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id >= map.Count)
                throw new ModelConfigException(src, "id2label",
                    $"key \"{key}\" is not an id in 0..{map.Count - 1}; keys must be the contiguous integers 0..C-1");
            if (labels[id] is not null)
                throw new ModelConfigException(src, "id2label", $"id {id} appears twice");
            labels[id] = label;
        }
        return labels!;
    }

    static int Required(long? value, string src, string field, int min, int max)
    {
        if (value is not long v) throw new ModelConfigException(src, field, "is required but missing (or null)");
        return InRange(v, src, field, min, max);
    }

    static int Optional(long? value, string src, string field, int fallback, int min, int max)
        => value is long v ? InRange(v, src, field, min, max) : fallback;

    static int InRange(long v, string src, string field, int min, int max)
    {
        if (v < min || v > max)
            throw new ModelConfigException(src, field, $"must be an integer in [{min}, {max}], got {v}");
        return (int)v;
    }

    /// <summary>The fields as they appear in the file, type-checked but not yet range-checked.</summary>
    sealed class RawFields
    {
        public string? ModelType, HiddenAct, PositionEmbeddingType;
        public long? HiddenSize, NumHiddenLayers, NumAttentionHeads, IntermediateSize, MaxPositionEmbeddings,
            TypeVocabSize, VocabSize, PadTokenId, NumLabels;
        public double? LayerNormEps;
        public string? LayerNormEpsText;
        public List<(string Key, string Label)>? Id2Label;

        public static RawFields Read(ReadOnlySpan<byte> json, string src)
        {
            if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
            var raw = new RawFields();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                    throw new ModelConfigException(src, null, "must contain one JSON object");
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    string name = reader.GetString()!;
                    reader.Read();
                    if (!seen.Add(name)) throw new ModelConfigException(src, name, "appears twice");
                    switch (name)
                    {
                        case "model_type": raw.ModelType = ReadString(ref reader, src, name); break;
                        case "hidden_act": raw.HiddenAct = ReadString(ref reader, src, name); break;
                        case "position_embedding_type": raw.PositionEmbeddingType = ReadString(ref reader, src, name); break;
                        case "hidden_size": raw.HiddenSize = ReadInt(ref reader, src, name); break;
                        case "num_hidden_layers": raw.NumHiddenLayers = ReadInt(ref reader, src, name); break;
                        case "num_attention_heads": raw.NumAttentionHeads = ReadInt(ref reader, src, name); break;
                        case "intermediate_size": raw.IntermediateSize = ReadInt(ref reader, src, name); break;
                        case "max_position_embeddings": raw.MaxPositionEmbeddings = ReadInt(ref reader, src, name); break;
                        case "type_vocab_size": raw.TypeVocabSize = ReadInt(ref reader, src, name); break;
                        case "vocab_size": raw.VocabSize = ReadInt(ref reader, src, name); break;
                        case "pad_token_id": raw.PadTokenId = ReadInt(ref reader, src, name); break;
                        case "num_labels": raw.NumLabels = ReadInt(ref reader, src, name); break;
                        case "layer_norm_eps":
                            if (reader.TokenType == JsonTokenType.Null) break;
                            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double eps))
                                throw new ModelConfigException(src, name, $"must be a number, got {Describe(ref reader)}");
                            raw.LayerNormEps = eps;
                            raw.LayerNormEpsText = Encoding.UTF8.GetString(reader.ValueSpan);
                            break;
                        case "id2label": raw.Id2Label = ReadLabelMap(ref reader, src, name); break;
                        default: reader.Skip(); break;
                    }
                }
                if (reader.TokenType != JsonTokenType.EndObject)
                    throw new ModelConfigException(src, null, "is not a well-formed JSON object");
                if (reader.Read())
                    throw new ModelConfigException(src, null, "has content after the JSON object");
            }
            catch (JsonException e)
            {
                throw new ModelConfigException(src, null, $"is not valid JSON ({e.Message})", e);
            }
            return raw;
        }

        static string? ReadString(ref Utf8JsonReader reader, string src, string field)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            if (reader.TokenType != JsonTokenType.String)
                throw new ModelConfigException(src, field, $"must be a string, got {Describe(ref reader)}");
            return reader.GetString();
        }

        static long? ReadInt(ref Utf8JsonReader reader, string src, string field)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v))
                throw new ModelConfigException(src, field, $"must be an integer, got {Describe(ref reader)}");
            return v;
        }

        static List<(string, string)>? ReadLabelMap(ref Utf8JsonReader reader, string src, string field)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new ModelConfigException(src, field, $"must be an object mapping ids to label names, got {Describe(ref reader)}");
            var list = new List<(string, string)>();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string key = reader.GetString()!;
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                    throw new ModelConfigException(src, field, $"label for key \"{key}\" must be a string, got {Describe(ref reader)}");
                list.Add((key, reader.GetString()!));
            }
            return list;
        }

        static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
        {
            JsonTokenType.String => "\"" + reader.GetString() + "\"",
            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            _ => reader.TokenType.ToString(),
        };
    }
}
