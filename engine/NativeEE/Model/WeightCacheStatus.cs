namespace NativeEE;

/// <summary>
/// Where a loaded model's packed GEMM weights came from (see <see cref="ModelOptions.WeightCacheDirectory"/>).
/// Every outcome gives the same numbers; they differ only in load time and memory.
/// </summary>
public enum WeightCacheStatus
{
    /// <summary>No cache directory was given: the weights were packed in process memory.</summary>
    Disabled,
    /// <summary>A valid cache file for this model, ISA path and panel layout was mapped read-only; nothing was packed.</summary>
    Mapped,
    /// <summary>There was no cache file: the weights were packed in memory and the file was written for later loads.</summary>
    Created,
    /// <summary>The cache file was stale (the model files changed) or invalid (truncated, corrupt, another layout): it was rebuilt.</summary>
    Replaced,
    /// <summary>The cache file was missing or unusable and could not be written (read-only directory, disk full…): packed in memory.</summary>
    Unwritable,
}
