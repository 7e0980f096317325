using System.Buffers.Binary;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using NativeEE.Kernels;
using NativeEE.Safetensors;

namespace NativeEE.Model;

/// <summary>
/// A model's GEMM weights packed for one ISA path, in a file that later loads map read-only instead of repacking.
/// <see cref="Open"/> validates the whole header before anything is read through it, so a file that opens can
/// only hand out panels that lie inside it, on 64-byte boundaries, without overlap and of the size the kernels read.
/// </summary>
/// <remarks>
/// <para>Layout (little-endian):</para>
/// <code>
///  0  magic "NEEPACK\0"
///  8  u32 file-format version, u32 panel-layout version, u32 ISA path, u32 panel width NR
/// 24  u32 entry count, u32 key length, u64 file length, u64 data offset (multiple of 64)
/// 48  key: UTF-8 fingerprint of the source files (see <see cref="Key"/>)
///     entries: u32 name length, name (UTF-8), u32 N, u32 K, u64 offset (multiple of 64), u64 length in floats
///     u64 FNV-1a-64 of every header byte before it
///     zero padding to the data offset; then the panels, each at its offset, in offset order
/// </code>
/// <para>The key ties the file to the exact safetensors files it was packed from: path, size, modification time,
/// a hash of the JSON header (names, dtypes, shapes, offsets) and of 16 samples of the data block. Rewriting a
/// file in place with another checkpoint of the same architecture, size and modification time is the one change
/// the key can miss (only if all 16 samples agree too). The panels themselves are not checksummed on load: that
/// would touch all of them, which is the cost the cache exists to avoid. Files are written to a temporary name,
/// flushed to disk and renamed over the old one, so a crash leaves either the old file or the new, never a torn
/// one; a file that is shorter than its header records is detected as truncated.</para>
/// <para>Like <see cref="SafetensorsFile"/>, the file must not be truncated in place by another process while mapped.</para>
/// </remarks>
internal sealed unsafe class PackedWeightCache : IDisposable
{
    public const string Extension = ".packed";
    const uint FormatVersion = 1;
    const int PrefixSize = 48;
    const int Alignment = 64;
    const int MaxHeaderBytes = 16 << 20, MaxEntries = 1 << 16, MaxNameBytes = 4096;
    const int SampleCount = 16, SampleBytes = 64;
    static ReadOnlySpan<byte> Magic => "NEEPACK\0"u8;

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _file;
    readonly long _size;
    readonly IsaPath _isa;
    readonly Dictionary<string, Entry> _entries;
    readonly HashSet<string> _used = new(StringComparer.Ordinal);
    int _disposed;

    readonly record struct Entry(int N, int K, long Offset, long Length);

    PackedWeightCache(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* file, long size, IsaPath isa, Dictionary<string, Entry> entries)
    {
        Path = path;
        _map = map;
        _view = view;
        _file = file;
        _size = size;
        _isa = isa;
        _entries = entries;
    }

    public string Path { get; }

    public int EntryCount => _entries.Count;

    /// <summary>
    /// Reads one byte of every page of the mapping, in file order (layer by layer), so the page faults a first
    /// forward pass would take happen now; stops early when <paramref name="stop"/> is set. The caller holds a
    /// <see cref="ModelMemory"/> lease, so the mapping cannot go away underneath.
    /// </summary>
    public void Prefault(ref int stop)
    {
        const int Page = 4096, Step = 256;
        byte sink = 0;
        for (long offset = 0; offset < _size && Volatile.Read(ref stop) == 0; offset += (long)Page * Step)
        {
            long end = Math.Min(_size, offset + (long)Page * Step);
            for (long o = offset; o < end; o += Page) sink ^= _file[o];
        }
        GC.KeepAlive(sink);
    }

    /// <summary>The cache file for <paramref name="modelDirectory"/> on <paramref name="isa"/> inside <paramref name="cacheDirectory"/>: "{folder}-{hash of its full path}.{isa}.packed".</summary>
    public static string PathFor(string cacheDirectory, string modelDirectory, IsaPath isa)
    {
        string full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(modelDirectory));
        var name = new StringBuilder();
        foreach (char c in System.IO.Path.GetFileName(full))
        {
            if (name.Length == 64) break;
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }
        string hash = Fnv1a(Encoding.UTF8.GetBytes(full)).ToString("x16", CultureInfo.InvariantCulture);
        return System.IO.Path.Combine(System.IO.Path.GetFullPath(cacheDirectory), $"{name}-{hash}.{isa.ToString().ToLowerInvariant()}{Extension}");
    }

    /// <summary>The fingerprint of the files the weights are packed from, and of the layout they are packed in.</summary>
    public static string Key(IsaPath isa, IEnumerable<SafetensorsFile> sources)
    {
        var key = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        key.Append(inv, $"format {FormatVersion}; panel layout {GemmPacking.LayoutVersion}; {isa}, NR {Gemm.PanelWidth(isa)}\n");
        foreach (var f in sources)
        {
            key.Append(inv, $"{f.Path}; {f.FileSize} bytes; modified {f.LastWriteTimeUtc.Ticks}; header {Fnv1a(f.HeaderBytes):x16}; samples {SampleHash(f):x16}\n");
        }
        return key.ToString();
    }

    /// <summary>FNV-1a-64 of 16 evenly spaced 64-byte runs of the data block (the whole block if shorter): 16 pages touched, not the file.</summary>
    static ulong SampleHash(SafetensorsFile f)
    {
        long size = f.DataSize;
        if (size <= SampleCount * SampleBytes) return Fnv1a(f.DataBytes(0, (int)size));
        ulong hash = FnvOffset;
        for (int i = 0; i < SampleCount; i++)
            hash = Fnv1a(f.DataBytes((size - SampleBytes) / (SampleCount - 1) * i, SampleBytes), hash);
        return hash;
    }

    const ulong FnvOffset = 14695981039346656037, FnvPrime = 1099511628211;

    internal static ulong Fnv1a(ReadOnlySpan<byte> bytes, ulong hash = FnvOffset)
    {
        foreach (byte b in bytes) hash = (hash ^ b) * FnvPrime;
        return hash;
    }

    /// <summary>Maps <paramref name="path"/> and validates it for <paramref name="key"/> on <paramref name="isa"/>.</summary>
    /// <exception cref="PackedWeightCacheException">Missing, truncated, corrupt, incompatible or stale: rebuild it.</exception>
    public static PackedWeightCache Open(string path, string key, IsaPath isa)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the packed-weight cache is little-endian");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PackedWeightCacheException(path, PackedWeightCacheProblem.Missing, $"cannot be opened ({e.Message})", e);
        }
        long size = stream.Length;
        if (size < PrefixSize)
        {
            stream.Dispose();
            throw new PackedWeightCacheException(path, PackedWeightCacheProblem.Truncated, $"file is {size} bytes, shorter than the {PrefixSize}-byte fixed header");
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* start = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            byte* file = start + view.PointerOffset;
            var entries = Validate(path, file, size, key, isa);
            return new PackedWeightCache(path, map, view, file, size, isa, entries);
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

    static Dictionary<string, Entry> Validate(string path, byte* file, long size, string key, IsaPath isa)
    {
        var prefix = new ReadOnlySpan<byte>(file, PrefixSize);
        if (!prefix[..8].SequenceEqual(Magic))
            throw Corrupt(path, "does not start with the magic bytes NEEPACK");
        uint format = U32(prefix, 8), layout = U32(prefix, 12), isaCode = U32(prefix, 16), nr = U32(prefix, 20);
        uint count = U32(prefix, 24), keyLength = U32(prefix, 28);
        ulong recordedSize = U64(prefix, 32), dataOffset = U64(prefix, 40);
        if (format != FormatVersion)
            throw Incompatible(path, $"file format version {format}, this build reads {FormatVersion}");
        if (layout != GemmPacking.LayoutVersion)
            throw Incompatible(path, $"panel layout version {layout}, this build packs version {GemmPacking.LayoutVersion}");
        if (isaCode != (uint)isa || nr != Gemm.PanelWidth(isa))
            throw Incompatible(path, $"packed for ISA path {isaCode} with NR = {nr}, this process runs {isa} (= {(uint)isa}) with NR = {Gemm.PanelWidth(isa)}");
        if (recordedSize != (ulong)size)
        {
            if ((ulong)size < recordedSize)
                throw new PackedWeightCacheException(path, PackedWeightCacheProblem.Truncated, $"file is {size} bytes but its header records {recordedSize}");
            throw Corrupt(path, $"file is {size} bytes but its header records {recordedSize}");
        }
        if (dataOffset < PrefixSize || dataOffset > (ulong)size || dataOffset > MaxHeaderBytes || dataOffset % Alignment != 0)
            throw Corrupt(path, $"data offset {dataOffset} is not a multiple of {Alignment} within the file's first {Math.Min(size, MaxHeaderBytes)} bytes");
        if (count > MaxEntries)
            throw Corrupt(path, $"entry count {count} exceeds {MaxEntries}");

        // Structure first, with every read bounded by the header; then the checksum over what was read.
        var header = new ReadOnlySpan<byte>(file, (int)dataOffset);
        int pos = PrefixSize;
        var keyBytes = Take(header, ref pos, keyLength, path, "the key");
        var names = new byte[count][];
        var fields = new (uint N, uint K, ulong Offset, ulong Length)[count];
        for (int i = 0; i < count; i++)
        {
            uint nameLength = U32(Take(header, ref pos, 4, path, $"entry {i}"), 0);
            if (nameLength > MaxNameBytes) throw Corrupt(path, $"entry {i}'s name is {nameLength} bytes, more than {MaxNameBytes}");
            names[i] = Take(header, ref pos, nameLength, path, $"entry {i}'s name").ToArray();
            var f = Take(header, ref pos, 24, path, $"entry {i}");
            fields[i] = (U32(f, 0), U32(f, 4), U64(f, 8), U64(f, 16));
        }
        ulong checksum = U64(Take(header, ref pos, 8, path, "the checksum"), 0);
        if (checksum != Fnv1a(header[..(pos - 8)]))
            throw Corrupt(path, "header checksum does not match its contents");
        if (!keyBytes.SequenceEqual(Encoding.UTF8.GetBytes(key)))
            throw new PackedWeightCacheException(path, PackedWeightCacheProblem.Stale, "written for other model files (size, modification time or content fingerprint differ)");

        var entries = new Dictionary<string, Entry>((int)count, StringComparer.Ordinal);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        ulong end = dataOffset;
        for (int i = 0; i < count; i++)
        {
            string name;
            try { name = strict.GetString(names[i]); }
            catch (DecoderFallbackException) { throw Corrupt(path, $"entry {i}'s name is not valid UTF-8"); }
            var (n, k, offset, length) = fields[i];
            if (n is 0 or > int.MaxValue || k is 0 or > int.MaxValue)
                throw Corrupt(path, $"matrix '{name}' has shape [{n}, {k}]; both must be in 1..{int.MaxValue}");
            long expected = GemmPacking.PackedLength((int)n, (int)k, isa);
            if (length != (ulong)expected)
                throw Corrupt(path, $"matrix '{name}' [{n}, {k}] records {length} floats; packed for {isa} it takes {expected}");
            if (offset % Alignment != 0 || offset < end)
                throw Corrupt(path, $"matrix '{name}' starts at {offset}: not a multiple of {Alignment}, or before the end ({end}) of the header or the previous matrix");
            if (offset > (ulong)size || length > ((ulong)size - offset) / sizeof(float))
                throw Corrupt(path, $"matrix '{name}' ({length} floats at {offset}) runs past the end of the {size}-byte file");
            if (!entries.TryAdd(name, new Entry((int)n, (int)k, (long)offset, (long)length)))
                throw Corrupt(path, $"matrix '{name}' appears twice");
            end = offset + length * sizeof(float);
        }
        return entries;
    }

    static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> header, ref int pos, uint length, string path, string what)
    {
        if (length > (uint)(header.Length - pos))
            throw Corrupt(path, $"{what} ({length} bytes at {pos}) runs past the header's end at {header.Length}");
        var slice = header.Slice(pos, (int)length);
        pos += (int)length;
        return slice;
    }

    static uint U32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);

    static ulong U64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);

    static PackedWeightCacheException Corrupt(string path, string rule) => new(path, PackedWeightCacheProblem.Corrupt, rule);

    static PackedWeightCacheException Incompatible(string path, string rule) => new(path, PackedWeightCacheProblem.Incompatible, rule);

    /// <summary>Matrix <paramref name="name"/> W[N,K] as panels in the mapping (valid while this cache is open).</summary>
    /// <exception cref="PackedWeightCacheException">The file holds no such matrix with that shape (stale).</exception>
    public PackedMatrix Matrix(string name, int n, int k)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!_entries.TryGetValue(name, out var e) || e.N != n || e.K != k)
            throw new PackedWeightCacheException(Path, PackedWeightCacheProblem.Stale, $"holds no matrix '{name}' of shape [{n}, {k}]");
        _used.Add(name);
        return Gemm.FromPanels((float*)(_file + e.Offset), e.Length, n, k, _isa, this);
    }

    /// <summary>Every matrix in the file was asked for: a file with extra entries was written by other code.</summary>
    /// <exception cref="PackedWeightCacheException">Some entries were never used (stale).</exception>
    public void CheckAllUsed()
    {
        if (_used.Count != _entries.Count)
            throw new PackedWeightCacheException(Path, PackedWeightCacheProblem.Stale, $"holds {_entries.Count} matrices, the model uses {_used.Count} of them");
    }

    /// <summary>
    /// Writes <paramref name="matrices"/> (all packed for <paramref name="isa"/>) with <paramref name="key"/> to
    /// <paramref name="path"/>: a temporary file beside it, flushed to disk, then renamed over it.
    /// </summary>
    /// <exception cref="IOException">The directory cannot be created or written (the temporary file is removed).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write there.</exception>
    public static void Write(string path, string key, IsaPath isa, IReadOnlyList<(string Name, PackedMatrix Matrix)> matrices)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var nameBytes = new byte[matrices.Count][];
        long headerLength = PrefixSize + keyBytes.Length + 8;
        for (int i = 0; i < matrices.Count; i++)
        {
            if (matrices[i].Matrix.Path != isa) throw new ArgumentException($"matrix '{matrices[i].Name}' is packed for {matrices[i].Matrix.Path}, not {isa}", nameof(matrices));
            nameBytes[i] = Encoding.UTF8.GetBytes(matrices[i].Name);
            headerLength += 4 + nameBytes[i].Length + 24;
        }
        if (headerLength > MaxHeaderBytes - Alignment) throw new ArgumentException($"header of {headerLength} bytes is too large", nameof(matrices));
        long dataOffset = AlignUp(headerLength);
        var offsets = new long[matrices.Count];
        long end = dataOffset;
        for (int i = 0; i < matrices.Count; i++)
        {
            offsets[i] = AlignUp(end);
            end = offsets[i] + matrices[i].Matrix.Length * sizeof(float);
        }

        var header = new byte[dataOffset];
        Magic.CopyTo(header);
        var w = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(w[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(w[12..], GemmPacking.LayoutVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(w[16..], (uint)isa);
        BinaryPrimitives.WriteUInt32LittleEndian(w[20..], (uint)Gemm.PanelWidth(isa));
        BinaryPrimitives.WriteUInt32LittleEndian(w[24..], (uint)matrices.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(w[28..], (uint)keyBytes.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(w[32..], (ulong)end);
        BinaryPrimitives.WriteUInt64LittleEndian(w[40..], (ulong)dataOffset);
        int pos = PrefixSize;
        keyBytes.CopyTo(w[pos..]);
        pos += keyBytes.Length;
        for (int i = 0; i < matrices.Count; i++)
        {
            var m = matrices[i].Matrix;
            BinaryPrimitives.WriteUInt32LittleEndian(w[pos..], (uint)nameBytes[i].Length);
            nameBytes[i].CopyTo(w[(pos + 4)..]);
            pos += 4 + nameBytes[i].Length;
            BinaryPrimitives.WriteUInt32LittleEndian(w[pos..], (uint)m.N);
            BinaryPrimitives.WriteUInt32LittleEndian(w[(pos + 4)..], (uint)m.K);
            BinaryPrimitives.WriteUInt64LittleEndian(w[(pos + 8)..], (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(w[(pos + 16)..], (ulong)m.Length);
            pos += 24;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(w[pos..], Fnv1a(w[..pos]));

        string directory = System.IO.Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temp = $"{path}.{Environment.ProcessId}.{Random.Shared.Next():x8}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                stream.SetLength(end);
                stream.Write(header);
                for (int i = 0; i < matrices.Count; i++)
                {
                    // The gap before each matrix is already zero (SetLength extends with zeros).
                    stream.Position = offsets[i];
                    var m = matrices[i].Matrix;
                    for (long done = 0; done < m.Length;)
                    {
                        int chunk = (int)Math.Min(m.Length - done, 1 << 20);
                        stream.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<float>(m.Panels + done, chunk)));
                        done += chunk;
                    }
                    GC.KeepAlive(m);
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* the write already failed; report that */ }
            throw;
        }
    }

    static long AlignUp(long offset) => (offset + Alignment - 1) & ~(long)(Alignment - 1);

    /// <summary>Unmaps the file. Matrices handed out must not be used afterwards (<see cref="ModelMemory"/> sees to that).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
