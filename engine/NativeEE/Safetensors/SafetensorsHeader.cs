using System.Text.Json;
using System.Text.Unicode;

namespace NativeEE.Safetensors;

/// <summary>
/// Parses and validates a safetensors header (the N bytes of JSON after the length prefix) against
/// the size of the data block that follows it. Every rule is checked here, once, so a file that opens
/// can be read anywhere without further bounds checks.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>DESIGN.md: N ≤ 100 MiB (the reference implementation uses 100,000,000).</summary>
    public const long MaxHeaderBytes = 100L << 20;

    public const string MetadataKey = "__metadata__";

    // The deepest legal header is root → entry → shape array; a little slack keeps the
    // "not valid JSON" message for deeper nesting instead of a depth error deep in a value.
    static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 8,
    };

    /// <summary>header[N] UTF-8 JSON, dataSize = file length − 8 − N → tensors in data order, metadata.</summary>
    public static (TensorInfo[] Tensors, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> header, long dataSize, string path)
    {
        if (!Utf8.IsValid(header))
            throw Fail(path, null, SafetensorsRule.HeaderNotUtf8, $"header is not valid UTF-8 (first bad byte at header offset {FirstInvalidUtf8(header)})");
        if (header.IsEmpty || header[0] != (byte)'{')
            throw Fail(path, null, SafetensorsRule.HeaderStart,
                header.IsEmpty ? "header is empty (N = 0); it must be a JSON object" : $"header must start with '{{' (a JSON object), found byte 0x{header[0]:X2}");

        var tensors = new List<TensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(header, ReaderOptions);
            reader.Read(); // StartObject: guaranteed by the '{' check.
            while (true)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.EndObject)
                    break;
                string name = reader.GetString()!;
                if (!names.Add(name))
                    throw Fail(path, name, SafetensorsRule.DuplicateName, "name appears more than once in the header");
                reader.Read();
                if (name == MetadataKey)
                    ReadMetadata(ref reader, metadata, path);
                else
                    tensors.Add(ReadEntry(ref reader, name, dataSize, path));
            }
            // Only whitespace (the writer's space padding) may follow; anything else makes Read throw.
            if (reader.Read())
                throw Fail(path, null, SafetensorsRule.HeaderNotJson, "content after the header object");
        }
        catch (JsonException e)
        {
            throw Fail(path, null, SafetensorsRule.HeaderNotJson, $"header is not valid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            // GetString on an escape that decodes to an invalid UTF-16 string (a lone surrogate).
            throw Fail(path, null, SafetensorsRule.HeaderNotJson, $"header holds a string that is not valid text ({e.Message})", e);
        }

        TensorInfo[] ordered = tensors.ToArray();
        // Stable order by range; zero-sized tensors at the same offset keep header order.
        var index = new int[ordered.Length];
        for (int i = 0; i < index.Length; i++) index[i] = i;
        Array.Sort(index, (a, b) =>
        {
            int c = ordered[a].DataBegin.CompareTo(ordered[b].DataBegin);
            if (c == 0) c = ordered[a].DataEnd.CompareTo(ordered[b].DataEnd);
            return c != 0 ? c : a.CompareTo(b);
        });
        var sorted = new TensorInfo[ordered.Length];
        for (int i = 0; i < index.Length; i++) sorted[i] = ordered[index[i]];
        CheckCoverage(sorted, dataSize, path);
        return (sorted, metadata);
    }

    /// <summary>Sorted tensors must tile [0, dataSize) exactly: no overlap, no gap, nothing after the last.</summary>
    static void CheckCoverage(TensorInfo[] sorted, long dataSize, string path)
    {
        long cursor = 0;
        TensorInfo? previous = null;
        foreach (TensorInfo t in sorted)
        {
            if (t.DataBegin < cursor)
                throw Fail(path, t.Name, SafetensorsRule.Overlap,
                    $"data_offsets [{t.DataBegin}, {t.DataEnd}] overlap tensor '{previous!.Name}' [{previous.DataBegin}, {previous.DataEnd}]");
            if (t.DataBegin > cursor)
                throw Fail(path, t.Name, SafetensorsRule.Gap,
                    $"bytes [{cursor}, {t.DataBegin}) of the data block before this tensor belong to no tensor");
            cursor = t.DataEnd;
            previous = t;
        }
        if (cursor != dataSize)
            throw Fail(path, previous?.Name, SafetensorsRule.TrailingBytes,
                $"data block is {dataSize} bytes but the tensors cover only [0, {cursor}); {dataSize - cursor} trailing bytes belong to no tensor");
    }

    static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string path)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(path, null, SafetensorsRule.MetadataInvalid, $"{MetadataKey} must be an object of string values, found {Describe(reader.TokenType)}");
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndObject)
                return;
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Fail(path, null, SafetensorsRule.MetadataInvalid, $"{MetadataKey} value of key '{key}' must be a string, found {Describe(reader.TokenType)}");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw Fail(path, null, SafetensorsRule.MetadataInvalid, $"{MetadataKey} has key '{key}' more than once");
        }
    }

    static TensorInfo ReadEntry(ref Utf8JsonReader reader, string name, long dataSize, string path)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(path, name, SafetensorsRule.EntryStructure, $"entry must be an object with dtype, shape and data_offsets, found {Describe(reader.TokenType)}");

        SafetensorsDType? dtype = null;
        int[]? shape = null;
        long begin = -1, end = -1;
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            if (reader.ValueTextEquals("dtype"u8))
            {
                if (dtype is not null) throw Twice(path, name, "dtype");
                reader.Read();
                dtype = ReadDType(ref reader, name, path);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                if (shape is not null) throw Twice(path, name, "shape");
                reader.Read();
                shape = ReadShape(ref reader, name, path);
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                if (begin >= 0) throw Twice(path, name, "data_offsets");
                reader.Read();
                (begin, end) = ReadOffsets(ref reader, name, path);
            }
            else
            {
                throw Fail(path, name, SafetensorsRule.EntryStructure,
                    $"unknown key '{reader.GetString()}' (an entry has exactly dtype, shape and data_offsets)");
            }
        }
        if (dtype is null) throw Missing(path, name, "dtype");
        if (shape is null) throw Missing(path, name, "shape");
        if (begin < 0) throw Missing(path, name, "data_offsets");

        long count = ElementCount(shape, name, path);
        int size = dtype.Value.SizeInBytes();
        if (count > long.MaxValue / size)
            throw Fail(path, name, SafetensorsRule.SizeOverflow, $"element count {count} × {size} bytes overflows a 64-bit size");
        if (count * size != end - begin)
            throw Fail(path, name, SafetensorsRule.SizeMismatch,
                $"{dtype.Value.ToHeaderName()} [{string.Join(", ", shape)}] needs {count} × {size} = {count * size} bytes but data_offsets [{begin}, {end}] span {end - begin}");
        if (end > dataSize)
            throw Fail(path, name, SafetensorsRule.OffsetsBeyondData,
                $"data_offsets [{begin}, {end}] end beyond the data block of {dataSize} bytes");
        return new TensorInfo(name, dtype.Value, shape, count, begin, end);
    }

    static SafetensorsDType ReadDType(ref Utf8JsonReader reader, string name, string path)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw Fail(path, name, SafetensorsRule.DTypeUnknown, $"dtype must be a string, found {Describe(reader.TokenType)}");
        string text = reader.GetString()!;
        if (!SafetensorsDTypeExtensions.TryParseHeaderName(text, out SafetensorsDType dtype))
            throw Fail(path, name, SafetensorsRule.DTypeUnknown, $"unknown dtype \"{text}\"");
        return dtype;
    }

    static int[] ReadShape(ref Utf8JsonReader reader, string name, string path)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(path, name, SafetensorsRule.ShapeInvalid, $"shape must be an array of integers, found {Describe(reader.TokenType)}");
        var dims = new List<int>();
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndArray)
                return dims.ToArray();
            if (reader.TokenType != JsonTokenType.Number)
                throw Fail(path, name, SafetensorsRule.ShapeInvalid, $"shape dimension {dims.Count} must be an integer, found {Describe(reader.TokenType)}");
            if (!reader.TryGetInt64(out long dim))
                throw Fail(path, name, SafetensorsRule.ShapeInvalid, $"shape dimension {dims.Count} is {Raw(ref reader)}, not a 64-bit integer");
            if (dim < 0)
                throw Fail(path, name, SafetensorsRule.ShapeInvalid, $"shape dimension {dims.Count} is {dim}; dimensions must be ≥ 0");
            if (dim > int.MaxValue)
                throw Fail(path, name, SafetensorsRule.ShapeInvalid, $"shape dimension {dims.Count} is {dim}; dimensions must be ≤ {int.MaxValue}");
            dims.Add((int)dim);
        }
    }

    static (long Begin, long End) ReadOffsets(ref Utf8JsonReader reader, string name, string path)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(path, name, SafetensorsRule.OffsetsInvalid, $"data_offsets must be an array [begin, end], found {Describe(reader.TokenType)}");
        Span<long> pair = stackalloc long[2];
        for (int i = 0; i < 2; i++)
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number)
                throw Fail(path, name, SafetensorsRule.OffsetsInvalid, $"data_offsets must hold exactly two integers, found {Describe(reader.TokenType)} at position {i}");
            if (!reader.TryGetInt64(out pair[i]) || pair[i] < 0)
                throw Fail(path, name, SafetensorsRule.OffsetsInvalid, $"data_offsets[{i}] is {Raw(ref reader)}; offsets must be integers in [0, {long.MaxValue}]");
        }
        reader.Read();
        if (reader.TokenType != JsonTokenType.EndArray)
            throw Fail(path, name, SafetensorsRule.OffsetsInvalid, "data_offsets must hold exactly two integers, found more");
        if (pair[0] > pair[1])
            throw Fail(path, name, SafetensorsRule.OffsetsInvalid, $"data_offsets [{pair[0]}, {pair[1]}] has begin > end");
        return (pair[0], pair[1]);
    }

    static long ElementCount(int[] shape, string name, string path)
    {
        // A zero dimension empties the tensor whatever the others are, so it must not be reported as overflow.
        if (Array.IndexOf(shape, 0) >= 0)
            return 0;
        long count = 1;
        foreach (int d in shape)
        {
            if (count > long.MaxValue / d)
                throw Fail(path, name, SafetensorsRule.SizeOverflow, $"element count of shape [{string.Join(", ", shape)}] overflows a 64-bit integer");
            count *= d;
        }
        return count;
    }

    static int FirstInvalidUtf8(ReadOnlySpan<byte> text)
    {
        int offset = 0;
        while (System.Text.Rune.DecodeFromUtf8(text[offset..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
            offset += consumed;
        return offset;
    }

    static string Raw(ref Utf8JsonReader reader) => System.Text.Encoding.UTF8.GetString(reader.ValueSpan);

    static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };

    static SafetensorsFormatException Twice(string path, string name, string key) =>
        Fail(path, name, SafetensorsRule.EntryStructure, $"key '{key}' appears more than once in the entry");

    static SafetensorsFormatException Missing(string path, string name, string key) =>
        Fail(path, name, SafetensorsRule.EntryStructure, $"entry has no '{key}' (an entry has exactly dtype, shape and data_offsets)");

    static SafetensorsFormatException Fail(string path, string? name, SafetensorsRule rule, string problem, Exception? inner = null) =>
        new(path, name, rule, problem, inner);
}
