using NativeEE.Kernels;

namespace NativeEE;

/// <summary>How <see cref="EarlyExitModel.Load"/> sets a model up. All settings are fixed for the model's lifetime.</summary>
public sealed class ModelOptions
{
    /// <summary>
    /// Threads one call's loops (GEMM tiles, attention heads) are split across, the calling thread included.
    /// Default: the machine's logical processors. See <see cref="EarlyExitModel"/> for how this composes with
    /// many caller threads.
    /// </summary>
    public int Threads { get; init; } = WorkerPool.DefaultThreads;

    /// <summary>
    /// Longest token sequence (with [CLS] and [SEP]); longer texts are truncated and say so in
    /// <see cref="Prediction.Truncated"/>. The model uses the smallest of this, <c>tokenizer_config.json</c>'s
    /// <c>model_max_length</c> and <c>max_position_embeddings</c> (see <see cref="EarlyExitModel.MaxTokens"/>).
    /// </summary>
    public int? MaxTokens { get; init; }

    /// <summary>
    /// Most token rows one forward pass holds; a batch with more tokens runs as several passes.
    /// Scratch memory per concurrent call grows up to this bound and no further. Default 4096 (never less than <see cref="MaxTokens"/>).
    /// </summary>
    public int? MaxBatchTokens { get; init; }

    /// <summary>The policy used when a call passes none. Default: <c>nativeee-policy.json</c> in the folder, else full depth.</summary>
    public ExitPolicy? DefaultPolicy { get; init; }

    /// <summary>
    /// Run the last encoder layer's output projection and feed-forward on the [CLS] rows only (the only rows
    /// the classifier reads). Same results within float rounding; on by default.
    /// </summary>
    public bool ClsOnlyLastLayer { get; init; } = true;

    /// <summary>
    /// Finish a layer whose head may end sequences lazily where that pays: its [CLS] rows first, for the head, and
    /// the other rows (three quarters of the layer's work) only for the sequences that go on. Chosen per layer and
    /// call from the exit rates this model has seen; results are bit-identical either way. On by default.
    /// </summary>
    public bool DeferLayerCompletion { get; init; } = true;

    /// <summary>
    /// Folder for the packed-weight cache: the GEMM weights packed for this CPU's ISA path are written there once
    /// (one file per model folder and ISA path) and memory-mapped read-only by later loads, which then skip
    /// packing — most of a cold start. Null (the default): pack in memory on every load and write nothing.
    /// <see cref="DefaultWeightCacheDirectory"/> is the conventional per-user location. A stale (model files
    /// changed), truncated or corrupt cache file is detected and rebuilt; a folder that cannot be written just
    /// means packing in memory (see <see cref="EarlyExitModel.WeightCache"/>).
    /// </summary>
    public string? WeightCacheDirectory { get; init; }

    /// <summary>
    /// When the packed weights are mapped from the <see cref="WeightCacheDirectory"/> cache, fault their pages in on
    /// a background thread started by the load, so a first call made some time after loading finds them mapped
    /// (MiniLM: first call 15 → 4 ms on our VM). Off by default: a call made right after the load gains nothing
    /// (both threads take page faults at once and slow each other; measured on <c>nee classify</c>), and a model
    /// whose calls mostly exit early only ever touches its early layers. Turn it on in a service that loads at
    /// start-up and serves later.
    /// </summary>
    public bool PrefaultWeights { get; init; }

    /// <summary>
    /// The per-user cache folder: <c>$XDG_CACHE_HOME/nativeee</c>, else <c>~/.cache/nativeee</c> (on Windows
    /// <c>%LOCALAPPDATA%\nativeee</c>); null when the home folder is unknown.
    /// </summary>
    public static string? DefaultWeightCacheDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            // The XDG spec says a relative value is invalid and must be ignored.
            if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "nativeee");
            if (OperatingSystem.IsWindows())
            {
                string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
                return local.Length > 0 ? Path.Combine(local, "nativeee") : null;
            }
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return home.Length > 0 ? Path.Combine(home, ".cache", "nativeee") : null;
        }
    }
}
