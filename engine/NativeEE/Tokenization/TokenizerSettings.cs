using System.Text.Json;

namespace NativeEE.Tokenization;

/// <summary>
/// The parts of a Hugging Face <c>tokenizer_config.json</c> that change BERT WordPiece ids. An absent file
/// means BertTokenizer's defaults (uncased, accents stripped, no length limit of its own).
/// </summary>
internal sealed class TokenizerSettings
{
    public bool LowerCase { get; private init; } = true;

    /// <summary>HF's strip_accents: null follows do_lower_case.</summary>
    public bool? StripAccentsSetting { get; private init; }

    public bool StripAccents => StripAccentsSetting ?? LowerCase;

    /// <summary>model_max_length when it is a usable bound (HF writes 1e30 for "none").</summary>
    public int? ModelMaxLength { get; private init; }

    public string UnkToken { get; private init; } = "[UNK]";
    public string ClsToken { get; private init; } = "[CLS]";
    public string SepToken { get; private init; } = "[SEP]";
    public string PadToken { get; private init; } = "[PAD]";
    public string MaskToken { get; private init; } = "[MASK]";

    public static TokenizerSettings Load(string path)
    {
        if (!File.Exists(path)) return new TokenizerSettings();
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelConfigException(path, null, $"cannot be read: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    public static TokenizerSettings Parse(ReadOnlySpan<byte> json, string src)
    {
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        bool lower = true;
        bool? strip = null;
        int? maxLength = null;
        string unk = "[UNK]", cls = "[CLS]", sep = "[SEP]", pad = "[PAD]", mask = "[MASK]";
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new ModelConfigException(src, null, "must contain one JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                switch (name)
                {
                    case "do_lower_case": lower = Bool(ref reader, src, name) ?? true; break;
                    case "strip_accents": strip = Bool(ref reader, src, name); break;
                    case "tokenize_chinese_chars":
                        if (Bool(ref reader, src, name) == false)
                            throw new ModelConfigException(src, name, "false is not supported: the WordPiece tokenizer always splits CJK ideographs into single tokens, as BERT's default does");
                        break;
                    case "do_basic_tokenize":
                        if (Bool(ref reader, src, name) == false)
                            throw new ModelConfigException(src, name, "false is not supported: NativeEE always runs BERT's basic tokenization (punctuation and whitespace splitting) before WordPiece");
                        break;
                    case "tokenizer_class":
                        string? cls_ = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        if (cls_ is not null and not ("BertTokenizer" or "BertTokenizerFast"))
                            throw new ModelConfigException(src, name, $"'{cls_}' is not supported; NativeEE tokenizes with BERT WordPiece rules (BertTokenizer, BertTokenizerFast)");
                        break;
                    case "model_max_length":
                        if (reader.TokenType == JsonTokenType.Null) break;
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double m) || m < 2)
                            throw new ModelConfigException(src, name, "must be a number ≥ 2");
                        if (m <= int.MaxValue) maxLength = (int)m;
                        break;
                    case "unk_token": unk = Token(ref reader, src, name) ?? unk; break;
                    case "cls_token": cls = Token(ref reader, src, name) ?? cls; break;
                    case "sep_token": sep = Token(ref reader, src, name) ?? sep; break;
                    case "pad_token": pad = Token(ref reader, src, name) ?? pad; break;
                    case "mask_token": mask = Token(ref reader, src, name) ?? mask; break;
                    default: reader.Skip(); break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(src, null, $"is not valid JSON ({e.Message})", e);
        }
        return new TokenizerSettings
        {
            LowerCase = lower, StripAccentsSetting = strip, ModelMaxLength = maxLength,
            UnkToken = unk, ClsToken = cls, SepToken = sep, PadToken = pad, MaskToken = mask,
        };
    }

    static bool? Bool(ref Utf8JsonReader reader, string src, string field) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => null,
        _ => throw new ModelConfigException(src, field, "must be true, false or null"),
    };

    // Special tokens are written either as "[UNK]" or as an AddedToken object {"content": "[UNK]", ...}.
    static string? Token(ref Utf8JsonReader reader, string src, string field)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.String:
                return NonEmpty(reader.GetString(), src, field);
            case JsonTokenType.StartObject:
                string? content = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isContent = reader.ValueTextEquals("content"u8);
                    reader.Read();
                    if (isContent && reader.TokenType == JsonTokenType.String) content = reader.GetString();
                    else reader.Skip();
                }
                return NonEmpty(content ?? throw new ModelConfigException(src, field, "object form needs a string \"content\""), src, field);
            default:
                throw new ModelConfigException(src, field, "must be a string or an object with \"content\"");
        }
    }

    static string NonEmpty(string? s, string src, string field)
        => string.IsNullOrEmpty(s) ? throw new ModelConfigException(src, field, "must not be empty") : s;
}
