using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;

namespace NativeEE.Safetensors;

/// <summary>
/// A safetensors file, memory-mapped read-only and fully validated by <see cref="Open"/>: a file that
/// opens obeys every rule of <see cref="SafetensorsRule"/>, so later reads need no checks beyond the
/// tensor's name and element type.
/// </summary>
/// <remarks>
/// Reads are safe from many threads at once. Spans point into the mapping: they are valid only until
/// <see cref="Dispose"/>, and the file must not be truncated by another process while it is open.
/// Safetensors stores little-endian data; big-endian hosts are refused.
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _data; // start of the data block, i.e. file byte 8 + N
    readonly TensorInfo[] _tensors;
    readonly Dictionary<string, TensorInfo> _byName;
    readonly ReadOnlyDictionary<string, string> _metadata;
    int _disposed;

    SafetensorsFile(string path, long fileSize, long headerSize, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* data,
        TensorInfo[] tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        FileSize = fileSize;
        HeaderSize = headerSize;
        _map = map;
        _view = view;
        _data = data;
        _tensors = tensors;
        _metadata = new ReadOnlyDictionary<string, string>(metadata);
        _byName = new Dictionary<string, TensorInfo>(tensors.Length, StringComparer.Ordinal);
        foreach (TensorInfo t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>Maps the file read-only and validates its header against every format rule.</summary>
    /// <exception cref="SafetensorsFormatException">The file breaks a rule; the message names the file, tensor and rule.</exception>
    /// <exception cref="IOException">The file cannot be opened (missing, no permission, …).</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; this reader maps it without byte swapping");
        string fullPath = System.IO.Path.GetFullPath(path);
        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        long fileSize = stream.Length;
        DateTime lastWrite = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
        if (fileSize < 8)
        {
            stream.Dispose();
            throw new SafetensorsFormatException(fullPath, null, SafetensorsRule.FileTooShort,
                $"file is {fileSize} bytes, shorter than the 8-byte header length");
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* start = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            byte* file = start + view.PointerOffset;

            ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(file, 8));
            if (headerSize > SafetensorsHeader.MaxHeaderBytes)
                throw new SafetensorsFormatException(fullPath, null, SafetensorsRule.HeaderTooLarge,
                    $"header length N = {headerSize} exceeds the limit of {SafetensorsHeader.MaxHeaderBytes} bytes (100 MiB)");
            if (8 + (long)headerSize > fileSize)
                throw new SafetensorsFormatException(fullPath, null, SafetensorsRule.HeaderBeyondFile,
                    $"header length N = {headerSize} needs 8 + N = {8 + (long)headerSize} bytes but the file has {fileSize}");

            long dataSize = fileSize - 8 - (long)headerSize;
            var (tensors, metadata) = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(file + 8, (int)headerSize), dataSize, fullPath);
            return new SafetensorsFile(fullPath, fileSize, (long)headerSize, map, view, file + 8 + (long)headerSize, tensors, metadata) { LastWriteTimeUtc = lastWrite };
        }
        catch
        {
            if (start != null) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            if (map is null) stream.Dispose();
            else map.Dispose();
            throw;
        }
    }

    /// <summary>Absolute path of the file. Stays readable after <see cref="Dispose"/>, for messages.</summary>
    public string Path { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Header length N: the JSON (with padding) between the 8-byte prefix and the data block.</summary>
    public long HeaderSize { get; }

    /// <summary>All tensors in data (offset) order.</summary>
    public IReadOnlyList<TensorInfo> Tensors
    {
        get
        {
            ThrowIfDisposed();
            return _tensors;
        }
    }

    /// <summary>The header's <c>__metadata__</c>; empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata
    {
        get
        {
            ThrowIfDisposed();
            return _metadata;
        }
    }

    public bool Contains(string name)
    {
        ThrowIfDisposed();
        return _byName.ContainsKey(name);
    }

    public bool TryGetInfo(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TensorInfo? info)
    {
        ThrowIfDisposed();
        return _byName.TryGetValue(name, out info);
    }

    /// <exception cref="SafetensorsException">No tensor has this name.</exception>
    public TensorInfo GetInfo(string name)
    {
        ThrowIfDisposed();
        if (_byName.TryGetValue(name, out TensorInfo? info))
            return info;
        throw new SafetensorsException(Path, name, $"no such tensor (the file holds {_tensors.Length})");
    }

    /// <summary>The tensor's raw little-endian bytes, zero-copy.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        TensorInfo info = GetInfo(name);
        if (info.SizeInBytes > int.MaxValue)
            throw new SafetensorsException(Path, name, $"tensor is {info.SizeInBytes} bytes; a span holds at most {int.MaxValue}");
        return new ReadOnlySpan<byte>(_data + info.DataBegin, (int)info.SizeInBytes);
    }

    /// <summary>
    /// The tensor's elements as T[ElementCount], zero-copy. T must match the dtype: float↔F32, Half↔F16,
    /// double↔F64, sbyte↔I8, byte↔U8/BOOL (and the raw bits of F8), short↔I16, ushort↔U16 (and the raw bits of F16/BF16),
    /// int↔I32, uint↔U32, long↔I64, ulong↔U64. The span may start at an address that is not a multiple
    /// of sizeof(T) (safetensors does not align tensors); element access is unaligned-safe on x64 and arm64.
    /// </summary>
    /// <exception cref="SafetensorsException">No such tensor, or T does not match its dtype.</exception>
    public ReadOnlySpan<T> GetSpan<T>(string name) where T : unmanaged
    {
        TensorInfo info = GetInfo(name);
        if (!Matches<T>(info.DType))
            throw new SafetensorsException(Path, name, $"dtype {info.DType.ToHeaderName()} cannot be read as {typeof(T).Name}");
        if (info.ElementCount > int.MaxValue)
            throw new SafetensorsException(Path, name, $"tensor has {info.ElementCount} elements; a span holds at most {int.MaxValue}");
        return new ReadOnlySpan<T>(_data + info.DataBegin, (int)info.ElementCount);
    }

    /// <summary>The tensor converted to a new float[ElementCount] (see <see cref="ReadFloat32(string, Span{float})"/>).</summary>
    public float[] ReadFloat32(string name)
    {
        TensorInfo info = GetInfo(name);
        if (info.ElementCount > Array.MaxLength)
            throw new SafetensorsException(Path, name, $"tensor has {info.ElementCount} elements, more than an array holds");
        var result = new float[info.ElementCount];
        ReadFloat32(name, result);
        return result;
    }

    /// <summary>
    /// tensor[ElementCount] → destination[ElementCount] as float: F32 copied; F16, BF16, F8 widened
    /// exactly; F64 and 32/64-bit integers rounded to nearest float; BOOL as 0 or 1.
    /// </summary>
    /// <exception cref="ArgumentException">destination length differs from the element count.</exception>
    public void ReadFloat32(string name, Span<float> destination)
    {
        TensorInfo info = GetInfo(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"{Path}: tensor '{name}' has {info.ElementCount} elements but destination holds {destination.Length}", nameof(destination));
        switch (info.DType)
        {
            case SafetensorsDType.F32: Elements<float>(info).CopyTo(destination); break;
            case SafetensorsDType.F16: HalfConversions.Float16ToSingle(Elements<Half>(info), destination); break;
            case SafetensorsDType.BF16: HalfConversions.BFloat16ToSingle(Elements<ushort>(info), destination); break;
            case SafetensorsDType.F8_E4M3: Float8.E4M3ToSingle(Elements<byte>(info), destination); break;
            case SafetensorsDType.F8_E5M2: Float8.E5M2ToSingle(Elements<byte>(info), destination); break;
            case SafetensorsDType.F64: Widen(Elements<double>(info), destination); break;
            case SafetensorsDType.I8: Widen(Elements<sbyte>(info), destination); break;
            case SafetensorsDType.U8: Widen(Elements<byte>(info), destination); break;
            case SafetensorsDType.I16: Widen(Elements<short>(info), destination); break;
            case SafetensorsDType.U16: Widen(Elements<ushort>(info), destination); break;
            case SafetensorsDType.I32: Widen(Elements<int>(info), destination); break;
            case SafetensorsDType.U32: Widen(Elements<uint>(info), destination); break;
            case SafetensorsDType.I64: Widen(Elements<long>(info), destination); break;
            case SafetensorsDType.U64: Widen(Elements<ulong>(info), destination); break;
            case SafetensorsDType.BOOL:
                ReadOnlySpan<byte> flags = Elements<byte>(info);
                for (int i = 0; i < flags.Length; i++) destination[i] = flags[i] != 0 ? 1f : 0f;
                break;
            default: throw new UnreachableException();
        }
    }

    /// <summary>Releases the mapping; every later access (except <see cref="Path"/>) throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    ReadOnlySpan<T> Elements<T>(TensorInfo info) where T : unmanaged => new(_data + info.DataBegin, (int)info.ElementCount);

    /// <summary>The header JSON (N bytes, padding included), for fingerprinting the file. Valid until <see cref="Dispose"/>.</summary>
    internal ReadOnlySpan<byte> HeaderBytes
    {
        get
        {
            ThrowIfDisposed();
            return new ReadOnlySpan<byte>(_data - HeaderSize, (int)HeaderSize);
        }
    }

    /// <summary>The file's modification time when it was opened (of the open file itself, even if the path was replaced since).</summary>
    internal DateTime LastWriteTimeUtc { get; private init; }

    /// <summary>Bytes of the data block: file size − 8 − N.</summary>
    internal long DataSize => FileSize - 8 - HeaderSize;

    /// <summary>
    /// The data block's bytes [offset, offset + length) (within <see cref="DataSize"/>), zero-copy, valid until
    /// <see cref="Dispose"/>: the caller must keep the file open while it uses them.
    /// </summary>
    internal ReadOnlySpan<byte> DataBytes(long offset, int length)
    {
        ThrowIfDisposed();
        if (offset < 0 || length < 0 || offset > DataSize - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset}+{length}) is outside the {DataSize}-byte data block of {Path}");
        return new ReadOnlySpan<byte>(_data + offset, length);
    }

    static void Widen<T>(ReadOnlySpan<T> source, Span<float> destination) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        for (int i = 0; i < source.Length; i++) destination[i] = float.CreateTruncating(source[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool Matches<T>(SafetensorsDType dtype) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return dtype == SafetensorsDType.F32;
        if (typeof(T) == typeof(Half)) return dtype == SafetensorsDType.F16;
        if (typeof(T) == typeof(double)) return dtype == SafetensorsDType.F64;
        if (typeof(T) == typeof(sbyte)) return dtype == SafetensorsDType.I8;
        if (typeof(T) == typeof(byte)) return dtype is SafetensorsDType.U8 or SafetensorsDType.BOOL or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2;
        if (typeof(T) == typeof(short)) return dtype == SafetensorsDType.I16;
        if (typeof(T) == typeof(ushort)) return dtype is SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16;
        if (typeof(T) == typeof(int)) return dtype == SafetensorsDType.I32;
        if (typeof(T) == typeof(uint)) return dtype == SafetensorsDType.U32;
        if (typeof(T) == typeof(long)) return dtype == SafetensorsDType.I64;
        if (typeof(T) == typeof(ulong)) return dtype == SafetensorsDType.U64;
        return false;
    }

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
