using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NativeEE.Cli;

/// <summary>
/// One JSON document on a <see cref="TextWriter"/>, written with <see cref="Utf8JsonWriter"/> (no reflection, AOT-safe)
/// and streamed out on every <see cref="Flush"/>. Non-ASCII text stays readable (no \u escapes).
/// </summary>
internal sealed class JsonOutput : IDisposable
{
    readonly TextWriter _output;
    readonly ArrayBufferWriter<byte> _buffer = new(4096);

    public JsonOutput(TextWriter output)
    {
        _output = output;
        Json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public Utf8JsonWriter Json { get; }

    /// <summary>Sends what is written so far (whole tokens only, so no UTF-8 sequence is ever split).</summary>
    public void Flush()
    {
        Json.Flush();
        if (_buffer.WrittenCount == 0) return;
        _output.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
        _buffer.ResetWrittenCount();
        _output.Flush();
    }

    public void Dispose()
    {
        Flush();
        _output.WriteLine();
        _output.Flush();
        Json.Dispose();
    }

    /// <summary>Writes one document made by <paramref name="write"/>.</summary>
    public static void Write(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var json = new JsonOutput(output);
        write(json.Json);
    }
}
