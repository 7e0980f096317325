using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NativeEE.Safetensors;

/// <summary>
/// Builds a safetensors file in memory and saves it the way the reference implementation does:
/// header JSON padded with spaces so the data block starts at a multiple of 8, tensors stored
/// back to back in the order they were added.
/// </summary>
public sealed class SafetensorsWriter
{
    readonly List<(string Name, SafetensorsDType DType, int[] Shape, byte[] Data)> _tensors = [];
    readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Written as <c>__metadata__</c> (omitted when empty).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>data[product(shape)] → an F32 tensor. The data is copied.</summary>
    public void Add(string name, ReadOnlySpan<float> data, params int[] shape) =>
        Add(name, SafetensorsDType.F32, MemoryMarshal.AsBytes(data), shape);

    /// <summary>raw[product(shape) × dtype size] little-endian bytes → a tensor. The bytes are copied.</summary>
    /// <exception cref="ArgumentException">Bad or duplicate name, negative dimension, or a byte count that does not match the shape.</exception>
    public void Add(string name, SafetensorsDType dtype, ReadOnlySpan<byte> raw, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name == SafetensorsHeader.MetadataKey)
            throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved for metadata; use {nameof(Metadata)}", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] has a negative dimension", nameof(shape));
            count = checked(count * d);
        }
        long bytes = checked(count * dtype.SizeInBytes());
        if (bytes != raw.Length)
            throw new ArgumentException(
                $"tensor '{name}': {dtype.ToHeaderName()} [{string.Join(", ", shape)}] needs {bytes} bytes but {raw.Length} were given", nameof(raw));
        _names.Add(name);
        _tensors.Add((name, dtype, (int[])shape.Clone(), raw.ToArray()));
    }

    /// <summary>
    /// Writes the file to a temporary name beside <paramref name="path"/> and renames it into place,
    /// so readers never see a half-written file and a failed save leaves any old file intact.
    /// </summary>
    public void Save(string path)
    {
        string fullPath = Path.GetFullPath(path);
        byte[] header = BuildHeader();
        int padded = (header.Length + 7) & ~7;
        string temp = $"{fullPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
                stream.Write(prefix);
                stream.Write(header);
                for (int i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
                foreach (var t in _tensors) stream.Write(t.Data);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    byte[] BuildHeader()
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Names stay readable (raw UTF-8, as PyTorch tools write them) instead of \uXXXX-escaped.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (Metadata.Count > 0)
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in Metadata)
                {
                    if (value is null)
                        throw new InvalidOperationException($"metadata key '{key}' has a null value; safetensors metadata values are strings");
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToHeaderName());
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += t.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
