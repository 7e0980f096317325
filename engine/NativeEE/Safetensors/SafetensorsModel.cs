using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;

namespace NativeEE.Safetensors;

/// <summary>
/// The weights of a model, from a single safetensors file or from shards listed by a
/// <c>model.safetensors.index.json</c>, behind one lookup by tensor name.
/// </summary>
/// <remarks>
/// Shards are trusted only inside the model folder: a shard path that is absolute, contains "..", or
/// resolves (following every symlink) outside the folder is refused. The index must describe the
/// shards exactly: every listed tensor is in its shard, and a shard holding a tensor the index does
/// not assign to it is refused rather than silently hidden.
/// </remarks>
public sealed class SafetensorsModel : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    readonly SafetensorsFile[] _files;
    readonly Dictionary<string, SafetensorsFile> _owner;
    readonly TensorInfo[] _tensors;
    readonly ReadOnlyDictionary<string, string> _metadata;
    int _disposed;

    SafetensorsModel(string path, SafetensorsFile[] files, Dictionary<string, SafetensorsFile> owner, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _files = files;
        _owner = owner;
        _metadata = new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(metadata, StringComparer.Ordinal));
        var tensors = new List<TensorInfo>(owner.Count);
        foreach (SafetensorsFile f in files) tensors.AddRange(f.Tensors);
        _tensors = tensors.ToArray();
    }

    /// <summary>
    /// Opens a model folder (its <c>model.safetensors</c>, else its <c>model.safetensors.index.json</c>:
    /// the order Hugging Face transformers looks them up), an index file, or a single safetensors file.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">A file or the index breaks a rule.</exception>
    /// <exception cref="SafetensorsException">The folder holds neither file.</exception>
    public static SafetensorsModel Open(string pathOrFolder)
    {
        string full = System.IO.Path.GetFullPath(pathOrFolder);
        if (Directory.Exists(full))
        {
            string single = System.IO.Path.Combine(full, SingleFileName);
            if (File.Exists(single)) return OpenSingle(single);
            string index = System.IO.Path.Combine(full, IndexFileName);
            if (File.Exists(index)) return OpenSharded(index);
            throw new SafetensorsException(full, null, $"folder holds neither {SingleFileName} nor {IndexFileName}");
        }
        if (full.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase))
            return OpenSharded(full);
        return OpenSingle(full);
    }

    /// <summary>The file or index that was opened.</summary>
    public string Path { get; }

    /// <summary>The open files: one, or the shards in name order.</summary>
    public IReadOnlyList<SafetensorsFile> Files
    {
        get
        {
            ThrowIfDisposed();
            return _files;
        }
    }

    /// <summary>All tensors: shard by shard, each in data order.</summary>
    public IReadOnlyList<TensorInfo> Tensors
    {
        get
        {
            ThrowIfDisposed();
            return _tensors;
        }
    }

    /// <summary>A single file's <c>__metadata__</c>, or the index's <c>metadata</c> (numbers as their JSON text).</summary>
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
        return _owner.ContainsKey(name);
    }

    public bool TryGetInfo(string name, [NotNullWhen(true)] out TensorInfo? info)
    {
        ThrowIfDisposed();
        info = null;
        return _owner.TryGetValue(name, out SafetensorsFile? file) && file.TryGetInfo(name, out info);
    }

    /// <summary>The file holding the tensor.</summary>
    /// <exception cref="SafetensorsException">No tensor has this name.</exception>
    public SafetensorsFile GetFile(string name)
    {
        ThrowIfDisposed();
        if (_owner.TryGetValue(name, out SafetensorsFile? file))
            return file;
        throw new SafetensorsException(Path, name, $"no such tensor (the model holds {_tensors.Length})");
    }

    /// <inheritdoc cref="SafetensorsFile.GetInfo"/>
    public TensorInfo GetInfo(string name) => GetFile(name).GetInfo(name);

    /// <inheritdoc cref="SafetensorsFile.GetBytes"/>
    public ReadOnlySpan<byte> GetBytes(string name) => GetFile(name).GetBytes(name);

    /// <inheritdoc cref="SafetensorsFile.GetSpan"/>
    public ReadOnlySpan<T> GetSpan<T>(string name) where T : unmanaged => GetFile(name).GetSpan<T>(name);

    /// <inheritdoc cref="SafetensorsFile.ReadFloat32(string)"/>
    public float[] ReadFloat32(string name) => GetFile(name).ReadFloat32(name);

    /// <inheritdoc cref="SafetensorsFile.ReadFloat32(string, Span{float})"/>
    public void ReadFloat32(string name, Span<float> destination) => GetFile(name).ReadFloat32(name, destination);

    /// <summary>Releases every mapping; later access throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        foreach (SafetensorsFile f in _files) f.Dispose();
    }

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    static SafetensorsModel OpenSingle(string path)
    {
        SafetensorsFile file = SafetensorsFile.Open(path);
        var owner = new Dictionary<string, SafetensorsFile>(file.Tensors.Count, StringComparer.Ordinal);
        foreach (TensorInfo t in file.Tensors) owner.Add(t.Name, file);
        return new SafetensorsModel(file.Path, [file], owner, file.Metadata);
    }

    static SafetensorsModel OpenSharded(string indexPath)
    {
        var (weightMap, metadata) = ReadIndex(indexPath);
        string folder = System.IO.Path.GetDirectoryName(indexPath)!;
        string realFolder = RealPath(folder, indexPath);

        // Shard names → real paths, validated before any shard is opened.
        var shardNames = new SortedSet<string>(weightMap.Values, StringComparer.Ordinal);
        var realByName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string shard in shardNames)
            realByName.Add(shard, ResolveShard(shard, realFolder, indexPath));

        var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal); // by real path
        var files = new List<SafetensorsFile>();
        try
        {
            foreach (string shard in shardNames)
            {
                string real = realByName[shard];
                if (opened.ContainsKey(real)) continue;
                SafetensorsFile file = SafetensorsFile.Open(real);
                opened.Add(real, file);
                files.Add(file);
            }

            var owner = new Dictionary<string, SafetensorsFile>(weightMap.Count, StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
            {
                SafetensorsFile file = opened[realByName[shard]];
                if (!file.Contains(tensor))
                    throw new SafetensorsFormatException(file.Path, tensor, SafetensorsRule.ShardMissingTensor,
                        $"index {indexPath} maps this tensor to shard '{shard}', which does not hold it");
                owner.Add(tensor, file);
            }
            foreach (SafetensorsFile file in files)
            {
                foreach (TensorInfo t in file.Tensors)
                {
                    if (!owner.TryGetValue(t.Name, out SafetensorsFile? listed))
                        throw new SafetensorsFormatException(file.Path, t.Name, SafetensorsRule.ShardUnmappedTensor,
                            $"shard holds a tensor that index {indexPath} does not list");
                    if (listed != file)
                        throw new SafetensorsFormatException(file.Path, t.Name, SafetensorsRule.ShardUnmappedTensor,
                            $"shard holds a tensor that index {indexPath} assigns to {listed.Path}");
                }
            }
            return new SafetensorsModel(indexPath, files.ToArray(), owner, metadata);
        }
        catch
        {
            foreach (SafetensorsFile f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A shard name from the index → its real path, which must lie inside the real model folder.
    /// Absolute names and ".." are refused outright, before touching the file system, so a hostile
    /// index cannot even probe outside the folder; symlinks are then followed component by component.
    /// </summary>
    static string ResolveShard(string shard, string realFolder, string indexPath)
    {
        if (shard.Length == 0)
            throw Escape(indexPath, shard, "is empty");
        foreach (char c in shard)
        {
            if (char.IsControl(c))
                throw Escape(indexPath, shard, "contains a control character");
        }
        if (System.IO.Path.IsPathRooted(shard) || shard[0] is '/' or '\\')
            throw Escape(indexPath, shard, "is an absolute path; shards must be named relative to the model folder");
        if (shard.Contains(':'))
            throw Escape(indexPath, shard, "contains ':', which names a drive or a stream on Windows");
        foreach (string part in shard.Split('/', '\\'))
        {
            if (part == "..")
                throw Escape(indexPath, shard, "contains '..'; shards must lie inside the model folder");
        }
        string real = RealPath(System.IO.Path.Join(realFolder, shard), indexPath);
        string inside = realFolder.EndsWith(System.IO.Path.DirectorySeparatorChar) ? realFolder : realFolder + System.IO.Path.DirectorySeparatorChar;
        if (!real.StartsWith(inside, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            throw Escape(indexPath, shard, $"resolves to {real}, outside the model folder {realFolder}");
        if (!File.Exists(real))
            throw new SafetensorsFormatException(indexPath, null, SafetensorsRule.IndexInvalid, $"shard '{shard}' does not exist (looked for {real})");
        return real;
    }

    static SafetensorsFormatException Escape(string indexPath, string shard, string problem) =>
        new(indexPath, null, SafetensorsRule.ShardPathEscape, $"shard path '{shard}' {problem}");

    /// <summary>
    /// The physical path of <paramref name="path"/>: every symlink along it replaced by its target,
    /// "." and ".." applied to the physical parent (as realpath(3) does, unlike Path.GetFullPath).
    /// Components that do not exist are kept as they are.
    /// </summary>
    internal static string RealPath(string path, string indexPath)
    {
        int hops = 0;
        return Resolve(System.IO.Path.GetFullPath(path), ref hops, indexPath);

        static string Resolve(string absolute, ref int hops, string indexPath)
        {
            string root = System.IO.Path.GetPathRoot(absolute)!;
            string current = root;
            foreach (string part in absolute[root.Length..].Split(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar))
            {
                if (part.Length == 0 || part == ".") continue;
                if (part == "..")
                {
                    current = System.IO.Path.GetDirectoryName(current) ?? root;
                    continue;
                }
                string next = System.IO.Path.Join(current, part);
                string? target;
                try
                {
                    target = new FileInfo(next).LinkTarget;
                }
                catch (IOException e)
                {
                    throw new SafetensorsFormatException(indexPath, null, SafetensorsRule.ShardPathEscape, $"cannot resolve {next}: {e.Message}", e);
                }
                if (target is null)
                {
                    current = next;
                    continue;
                }
                // Linux allows 40 links per lookup (MAXSYMLINKS); past that it is a loop.
                if (++hops > 40)
                    throw new SafetensorsFormatException(indexPath, null, SafetensorsRule.ShardPathEscape, $"too many symbolic links resolving {next} (a loop?)");
                current = Resolve(System.IO.Path.IsPathRooted(target) ? target : System.IO.Path.Join(current, target), ref hops, indexPath);
            }
            return current;
        }
    }

    const long MaxIndexBytes = SafetensorsHeader.MaxHeaderBytes;

    /// <summary>Reads <c>{"metadata": {..}, "weight_map": {"tensor": "shard", ..}}</c>; no other keys.</summary>
    static (Dictionary<string, string> WeightMap, Dictionary<string, string> Metadata) ReadIndex(string indexPath)
    {
        byte[] bytes;
        using (var stream = new FileStream(indexPath, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            if (stream.Length > MaxIndexBytes)
                throw Invalid(indexPath, $"index is {stream.Length} bytes, more than the limit of {MaxIndexBytes}");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        if (!Utf8.IsValid(bytes))
            throw Invalid(indexPath, "index is not valid UTF-8");

        Dictionary<string, string>? weightMap = null;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Invalid(indexPath, "index must be a JSON object");
            while (true)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.EndObject) break;
                if (reader.ValueTextEquals("weight_map"u8))
                {
                    if (weightMap is not null) throw Invalid(indexPath, "key 'weight_map' appears more than once");
                    reader.Read();
                    weightMap = ReadStringMap(ref reader, indexPath, "weight_map", allowNumbers: false);
                }
                else if (reader.ValueTextEquals("metadata"u8))
                {
                    if (sawMetadata) throw Invalid(indexPath, "key 'metadata' appears more than once");
                    sawMetadata = true;
                    reader.Read();
                    metadata = ReadStringMap(ref reader, indexPath, "metadata", allowNumbers: true);
                }
                else
                {
                    throw Invalid(indexPath, $"unknown key '{reader.GetString()}' (an index has only metadata and weight_map)");
                }
            }
            if (reader.Read())
                throw Invalid(indexPath, "content after the index object");
        }
        catch (JsonException e)
        {
            throw Invalid(indexPath, $"index is not valid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            throw Invalid(indexPath, $"index holds a string that is not valid text ({e.Message})", e);
        }
        if (weightMap is null)
            throw Invalid(indexPath, "index has no 'weight_map'");
        return (weightMap, metadata);
    }

    static Dictionary<string, string> ReadStringMap(ref Utf8JsonReader reader, string indexPath, string what, bool allowNumbers)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Invalid(indexPath, $"'{what}' must be an object");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndObject) return map;
            string key = reader.GetString()!;
            reader.Read();
            string value = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                // HF writes {"total_size": 12345}; keep the number's own text.
                JsonTokenType.Number when allowNumbers => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                _ => throw Invalid(indexPath, $"'{what}' value of '{key}' must be a string{(allowNumbers ? " or a number" : "")}"),
            };
            if (!map.TryAdd(key, value))
                throw new SafetensorsFormatException(indexPath, what == "weight_map" ? key : null, SafetensorsRule.DuplicateName,
                    $"'{what}' lists '{key}' more than once");
        }
    }

    static SafetensorsFormatException Invalid(string indexPath, string problem, Exception? inner = null) =>
        new(indexPath, null, SafetensorsRule.IndexInvalid, problem, inner);
}
