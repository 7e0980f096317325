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
}
