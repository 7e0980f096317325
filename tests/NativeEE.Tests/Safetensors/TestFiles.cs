using System.Buffers.Binary;
using System.Text;

namespace NativeEE.Tests.Safetensors;

/// <summary>A fresh temp folder per test, deleted afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nee-st-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { } // best effort: a leaked temp folder must not fail a test
    }
}

/// <summary>Hand-made safetensors bytes, for files the writer would never produce.</summary>
public static class RawSafetensors
{
    /// <summary>[N as u64 LE][header UTF-8][data]; N defaults to the header's length.</summary>
    public static byte[] Build(string headerJson, int dataBytes = 0, ulong? headerLength = null) =>
        Build(Encoding.UTF8.GetBytes(headerJson), dataBytes, headerLength);

    public static byte[] Build(byte[] header, int dataBytes = 0, ulong? headerLength = null)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++) bytes[8 + header.Length + i] = (byte)(i * 37 + 11);
        return bytes;
    }

    /// <summary>One F32 entry as header JSON text.</summary>
    public static string F32(string name, long begin, long end, params int[] shape) =>
        $"\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{end}]}}";
}
