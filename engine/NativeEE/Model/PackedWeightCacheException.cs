namespace NativeEE.Model;

/// <summary>Why a packed-weight cache file cannot be used. Every one of them means: rebuild it.</summary>
internal enum PackedWeightCacheProblem
{
    /// <summary>No file.</summary>
    Missing,
    /// <summary>Shorter than its header or than the length the header records.</summary>
    Truncated,
    /// <summary>Bad magic, checksum or structure: an entry out of bounds, unaligned, overlapping, or of the wrong size.</summary>
    Corrupt,
    /// <summary>Written by another file-format or panel-layout version, or for another ISA path or panel width.</summary>
    Incompatible,
    /// <summary>Written for other model files (size, modification time or content fingerprint differ), or lacks a matrix the model needs.</summary>
    Stale,
}

/// <summary>A packed-weight cache file that must not be read; the message names the file and the broken rule.</summary>
internal sealed class PackedWeightCacheException(string path, PackedWeightCacheProblem problem, string rule, Exception? inner = null)
    : Exception($"{path}: packed-weight cache {problem.ToString().ToLowerInvariant()}: {rule}", inner)
{
    public string FilePath { get; } = path;

    public PackedWeightCacheProblem Problem { get; } = problem;
}
