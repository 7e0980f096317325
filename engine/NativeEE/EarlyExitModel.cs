using NativeEE.Batching;
using NativeEE.Kernels;
using NativeEE.Model;

namespace NativeEE;

/// <summary>
/// A BERT-family sequence classifier loaded from a Hugging Face folder, with DeeBERT-style exit heads: each
/// sequence stops at the first layer whose head satisfies the exit policy, and the layers after it are not computed.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> One model is meant to be shared: every method is thread-safe and the hot path takes no
/// lock — a call borrows a scratch arena from a lock-free pool and returns it. The model owns one
/// <see cref="WorkerPool"/> of <see cref="ModelOptions.Threads"/> threads that splits a call's GEMMs and
/// attention. The pool runs one loop at a time: a caller that finds it busy runs its loop on its own thread
/// instead of waiting. So N concurrent callers use at most N + Threads − 1 threads, never queue behind each
/// other, and with as many callers as cores each call simply runs single-threaded (no oversubscription).</para>
/// <para><b>Memory.</b> Scratch grows on demand up to <see cref="MaxBatchTokens"/> rows per concurrent call and is
/// then reused: after warm-up, the pre-tokenized overloads allocate 0 bytes per call (single and batch, for
/// models with at most <see cref="Prediction.InlineLabels"/> labels). The text overloads allocate only what the
/// tokenizer does. <see cref="ClassifyWithTrace(string, ExitPolicy?, CancellationToken)"/> allocates its trace.</para>
/// <para><b>Cancellation.</b> The token is checked before every layer; a cancelled batch throws
/// <see cref="OperationCanceledException"/> and leaves <c>results</c> partly written.</para>
/// </remarks>
public sealed class EarlyExitModel : IDisposable
{
    readonly BertEncoder _encoder;
    readonly ModelMemory _memory;
    readonly WorkerPool _pool;
    readonly ScratchPool _scratch;
    readonly bool _clsOnlyLastLayer;
    LayerDeferral? _deferral;
    volatile bool _disposed;

    EarlyExitModel(string directory, BertEncoder encoder, ModelMemory memory, WordPieceTokenizer tokenizer, int threads, int maxBatchTokens, ExitPolicy defaultPolicy, bool clsOnlyLastLayer, bool deferLayers)
    {
        Directory = directory;
        _encoder = encoder;
        _memory = memory;
        Tokenizer = tokenizer;
        MaxTokens = tokenizer.MaxTokens;
        MaxBatchTokens = maxBatchTokens;
        DefaultPolicy = defaultPolicy;
        _clsOnlyLastLayer = clsOnlyLastLayer;
        _deferral = deferLayers ? new LayerDeferral(encoder.Layers.Length) : null;
        var exits = new List<int>();
        for (int l = 0; l < encoder.Heads.Length; l++) if (encoder.Heads[l] is not null) exits.Add(l);
        ExitLayers = exits.AsReadOnly();
        _pool = new WorkerPool(threads);
        var c = encoder.Config;
        _scratch = new ScratchPool(
            () => new InferenceScratch(c.HiddenSize, c.IntermediateSize, c.NumLabels, MaxTokens, MaxBatchTokens, threads),
            Math.Max(16, 2 * Environment.ProcessorCount));
    }

    /// <summary>
    /// Loads <c>config.json</c>, <c>vocab.txt</c>, <c>model.safetensors</c> (or its index) and, if present,
    /// <c>exits.safetensors</c> from <paramref name="directory"/>, checks every tensor against the config and packs
    /// the weights for the active ISA (or maps them from <see cref="ModelOptions.WeightCacheDirectory"/>). The
    /// safetensors files stay mapped until the model is disposed: embeddings, biases and LayerNorm parameters are
    /// read from them in place.
    /// </summary>
    /// <exception cref="ModelLoadException">A file or tensor is missing or does not match the config.</exception>
    /// <exception cref="ModelConfigException"><c>config.json</c> is invalid.</exception>
    public static EarlyExitModel Load(string directory, ModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new ModelOptions();
        if (options.Threads < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "ModelOptions.Threads must be at least 1.");
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new ModelLoadException($"Model folder {directory} does not exist.", directory);
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
            throw new ModelLoadException($"config.json is missing from the model folder {directory}.", configPath);
        var config = ModelConfig.Load(configPath);
        string vocabPath = Path.Combine(directory, "vocab.txt");
        if (!File.Exists(vocabPath))
            throw new ModelLoadException($"vocab.txt is missing from the model folder {directory}.", vocabPath);
        if (options.MaxTokens is int requested && (requested < 2 || requested > config.MaxPositionEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(options), requested,
                $"ModelOptions.MaxTokens must be between 2 and the model's max_position_embeddings ({config.MaxPositionEmbeddings}).");
        var tokenizer = WordPieceTokenizer.Load(directory, options.MaxTokens ?? config.MaxPositionEmbeddings);
        int maxBatchTokens = options.MaxBatchTokens ?? Math.Max(4096, tokenizer.MaxTokens);
        if (maxBatchTokens < tokenizer.MaxTokens)
            throw new ArgumentOutOfRangeException(nameof(options), maxBatchTokens,
                $"ModelOptions.MaxBatchTokens must be at least MaxTokens ({tokenizer.MaxTokens}).");

        var memory = new ModelMemory();
        try
        {
            var encoder = BertEncoder.Load(config, directory, configPath, options.WeightCacheDirectory, memory, out var cacheStatus, out string? cachePath);
            bool prefaulting = options.PrefaultWeights && memory.PrefaultInBackground();
            bool hasExits = Array.FindIndex(encoder.Heads, 0, encoder.Heads.Length - 1, h => h is not null) >= 0;
            var policy = options.DefaultPolicy ?? PolicyFile.TryLoad(directory) ?? ExitPolicy.FullDepth;
            if (policy.UsesIntermediateHeads && !hasExits)
                throw new ModelLoadException($"The default exit policy '{policy.Spec}' needs exit heads, but {directory} has no {BertEncoder.ExitsFileName}.",
                    Path.Combine(directory, BertEncoder.ExitsFileName));
            return new EarlyExitModel(directory, encoder, memory, tokenizer, options.Threads, maxBatchTokens, policy, options.ClsOnlyLastLayer, options.DeferLayerCompletion)
            {
                WeightCache = cacheStatus,
                WeightCachePath = cachePath,
                PrefaultStarted = prefaulting,
            };
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Where the packed GEMM weights came from: mapped from the cache, packed and cached now, or packed in memory.</summary>
    public WeightCacheStatus WeightCache { get; private init; }

    /// <summary>Whether the load started faulting in mapped packed weights in the background (<see cref="ModelOptions.PrefaultWeights"/>).</summary>
    internal bool PrefaultStarted { get; private init; }

    /// <summary>The cache file for this model and ISA path, or null when <see cref="ModelOptions.WeightCacheDirectory"/> was not set.</summary>
    public string? WeightCachePath { get; private init; }

    /// <summary>The folder the model was loaded from (full path).</summary>
    public string Directory { get; }

    /// <summary>The model's <c>config.json</c>.</summary>
    public ModelConfig Config => _encoder.Config;

    /// <summary>The tokenizer the text overloads use; use it to prepare input for the pre-tokenized overloads.</summary>
    public WordPieceTokenizer Tokenizer { get; }

    /// <summary>Encoder layers.</summary>
    public int NumLayers => _encoder.Layers.Length;

    /// <summary>0-based layers followed by an exit head, ascending; always ends with the last layer (the model's own classifier).</summary>
    public IReadOnlyList<int> ExitLayers { get; }

    /// <summary>True when <c>exits.safetensors</c> supplied heads before the last layer (needed by every policy except full depth).</summary>
    public bool HasExitHeads => ExitLayers.Count > 1;

    /// <summary>Label names, by label index (<c>id2label</c>).</summary>
    public IReadOnlyList<string> Labels => _encoder.Config.Labels;

    /// <summary>The policy used when a call passes none.</summary>
    public ExitPolicy DefaultPolicy { get; }

    /// <summary>Threads one call's loops are split across (the caller included).</summary>
    public int Threads => _pool.Threads;

    /// <summary>Longest token sequence, [CLS] and [SEP] included; longer texts are truncated.</summary>
    public int MaxTokens { get; }

    /// <summary>Most token rows in one forward pass; larger batches run as several passes.</summary>
    public int MaxBatchTokens { get; }

    /// <summary>The vector instruction set the kernels run on.</summary>
    public string Isa => Kernels.Isa.Description;

    /// <summary>Test hook: told how many sequences and token rows every layer computed.</summary>
    internal ILayerObserver? LayerObserver { get; set; }

    /// <summary>Lazy layer completion (<see cref="ModelOptions.DeferLayerCompletion"/>); null = off. Settable for tests.</summary>
    internal LayerDeferral? Deferral { get => _deferral; set => _deferral = value; }

    /// <summary>Tokenizes <paramref name="text"/> into ids[MaxTokens] ([CLS] … [SEP]); returns the token count.</summary>
    public int Tokenize(string text, Span<int> ids, out bool truncated)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenizer.Encode(text, ids, out truncated);
    }

    /// <summary>Classifies one text; exits at the first head <paramref name="policy"/> (default <see cref="DefaultPolicy"/>) accepts.</summary>
    public Prediction Classify(string text, ExitPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        Prediction result = default;
        var source = new TextSource(new ReadOnlySpan<string>(ref text), Tokenizer);
        Run(ref source, Resolve(policy), new Span<Prediction>(ref result), null, default, default, default, cancellationToken);
        return result;
    }

    /// <summary>
    /// tokenIds[T] (one sequence, [CLS] … [SEP], T ≤ <see cref="MaxTokens"/>) → its prediction. Allocates nothing after warm-up.
    /// </summary>
    public Prediction Classify(ReadOnlySpan<int> tokenIds, ExitPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        Prediction result = default;
        ReadOnlySpan<int> offsets = [0, tokenIds.Length];
        var source = new TokenIdSource(tokenIds, offsets, Config.VocabSize, MaxTokens);
        Run(ref source, Resolve(policy), new Span<Prediction>(ref result), null, default, default, default, cancellationToken);
        return result;
    }

    /// <summary>
    /// texts[N] → results[N]. Sequences are packed back to back (no padding) and exit one by one: each leaves the
    /// batch at its own exit layer and later layers run on the rest only.
    /// </summary>
    public void Classify(ReadOnlySpan<string> texts, Span<Prediction> results, ExitPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        CheckResults(texts.Length, results.Length);
        var source = new TextSource(texts, Tokenizer);
        Run(ref source, Resolve(policy), results, null, default, default, default, cancellationToken);
    }

    /// <summary>
    /// Pre-tokenized batch: sequence i is <c>tokenIds[offsets[i]..offsets[i+1]]</c> (offsets[N+1] ascending) → results[N].
    /// One flat id array plus offsets keeps the call allocation-free: it allocates nothing after warm-up.
    /// </summary>
    public void Classify(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> offsets, Span<Prediction> results, ExitPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        var source = new TokenIdSource(tokenIds, offsets, Config.VocabSize, MaxTokens);
        CheckResults(source.Count, results.Length);
        Run(ref source, Resolve(policy), results, null, default, default, default, cancellationToken);
    }

    /// <summary>Like <see cref="Classify(string, ExitPolicy?, CancellationToken)"/>, and records every head's logits and probabilities on the way in <see cref="Prediction.Trace"/>.</summary>
    public Prediction ClassifyWithTrace(string text, ExitPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        Prediction result = default;
        var source = new TextSource(new ReadOnlySpan<string>(ref text), Tokenizer);
        Run(ref source, Resolve(policy), new Span<Prediction>(ref result), new PredictionTrace(), default, default, default, cancellationToken);
        return result;
    }

    /// <summary>tokenIds[T] → prediction with <see cref="Prediction.Trace"/>: every head's output up to the exit.</summary>
    public Prediction ClassifyWithTrace(ReadOnlySpan<int> tokenIds, ExitPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        Prediction result = default;
        ReadOnlySpan<int> offsets = [0, tokenIds.Length];
        var source = new TokenIdSource(tokenIds, offsets, Config.VocabSize, MaxTokens);
        Run(ref source, Resolve(policy), new Span<Prediction>(ref result), new PredictionTrace(), default, default, default, cancellationToken);
        return result;
    }

    /// <summary>
    /// tokenIds[T] → clsPerLayer[L, H] (the [CLS] hidden state after every layer) and finalLogits[C] (the model's own
    /// classifier) at full depth. What exit heads are trained on.
    /// </summary>
    public void ComputeLayerStates(ReadOnlySpan<int> tokenIds, Span<float> clsPerLayer, Span<float> finalLogits)
    {
        ReadOnlySpan<int> offsets = [0, tokenIds.Length];
        ComputeLayerStates(tokenIds, offsets, clsPerLayer, finalLogits);
    }

    /// <summary>
    /// Batched <see cref="ComputeLayerStates(ReadOnlySpan{int}, Span{float}, Span{float})"/>: sequence i is
    /// <c>tokenIds[offsets[i]..offsets[i+1]]</c> → clsPerLayer[N, L, H], finalLogits[N, C].
    /// </summary>
    public void ComputeLayerStates(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> offsets, Span<float> clsPerLayer, Span<float> finalLogits)
    {
        var source = new TokenIdSource(tokenIds, offsets, Config.VocabSize, MaxTokens);
        int n = source.Count, l = NumLayers, h = Config.HiddenSize, c = Config.NumLabels;
        if (clsPerLayer.Length < (long)n * l * h)
            throw new ArgumentException($"clsPerLayer holds {clsPerLayer.Length} floats; [N={n}, L={l}, H={h}] needs {(long)n * l * h}.", nameof(clsPerLayer));
        if (finalLogits.Length < (long)n * c)
            throw new ArgumentException($"finalLogits holds {finalLogits.Length} floats; [N={n}, C={c}] needs {(long)n * c}.", nameof(finalLogits));
        Run(ref source, null, default, null, clsPerLayer, finalLogits, default, default);
    }

    /// <summary>
    /// Full-depth pass that evaluates every head: sequence i is <c>tokenIds[offsets[i]..offsets[i+1]]</c> →
    /// exitLogits[N, E, C], E = <see cref="ExitLayers"/>.Count (in that order, the model's own classifier last).
    /// What exit policies are calibrated on.
    /// </summary>
    public void ComputeExitLogits(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> offsets, Span<float> exitLogits)
    {
        var source = new TokenIdSource(tokenIds, offsets, Config.VocabSize, MaxTokens);
        long needed = (long)source.Count * ExitLayers.Count * Config.NumLabels;
        if (exitLogits.Length < needed)
            throw new ArgumentException($"exitLogits holds {exitLogits.Length} floats; [N={source.Count}, E={ExitLayers.Count}, C={Config.NumLabels}] needs {needed}.", nameof(exitLogits));
        Run(ref source, null, default, null, default, default, exitLogits, default);
    }

    ExitPolicy? Resolve(ExitPolicy? policy)
    {
        policy ??= DefaultPolicy;
        if (policy.UsesIntermediateHeads && !HasExitHeads)
            throw new InvalidOperationException(
                $"Exit policy '{policy.Spec}' needs exit heads, but the model in {Directory} has no {BertEncoder.ExitsFileName}; use ExitPolicy.FullDepth or train exit heads (nee train-exits).");
        return policy;
    }

    static void CheckResults(int sequences, int results)
    {
        if (results < sequences)
            throw new ArgumentException($"results has room for {results} predictions but the batch has {sequences} sequences.", nameof(results));
    }

    /// <summary>
    /// Packs the source's sequences into chunks of at most <see cref="MaxBatchTokens"/> token rows and runs each.
    /// Outputs are indexed by position in the source: results[N], clsStates[N, L, H], finalLogits[N, C] (each optional).
    /// </summary>
    void Run<TSource>(scoped ref TSource source, ExitPolicy? policy, Span<Prediction> results, PredictionTrace? trace,
        Span<float> clsStates, Span<float> finalLogits, Span<float> exitLogits, CancellationToken cancellationToken)
        where TSource : ISequenceSource, allows ref struct
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int count = source.Count, perClsState = NumLayers * Config.HiddenSize, c = Config.NumLabels, perExit = ExitLayers.Count * c;
        if (count == 0) return;
        // The weights are read from mappings: a lease keeps them mapped until this call ends, even if Dispose runs meanwhile.
        _memory.Acquire();
        InferenceScratch? s = null;
        try
        {
            s = _scratch.Rent();
            int start = 0, sequences = 0, tokens = 0, longest = 0;
            for (int i = 0; i <= count; i++)
            {
                int n = 0;
                bool truncated = false;
                if (i < count) n = source.Load(i, s.Staging, out truncated);
                if (sequences > 0 && (i == count || tokens + n > MaxBatchTokens))
                {
                    s.Offsets[sequences] = tokens;
                    s.Ensure(tokens, sequences, longest);
                    var request = new ForwardRequest
                    {
                        Policy = policy,
                        Results = results.IsEmpty ? default : results.Slice(start, sequences),
                        Trace = trace,
                        ClsStates = clsStates.IsEmpty ? default : clsStates.Slice(start * perClsState, sequences * perClsState),
                        FinalLogits = finalLogits.IsEmpty ? default : finalLogits.Slice(start * c, sequences * c),
                        ExitLogits = exitLogits.IsEmpty ? default : exitLogits.Slice(start * perExit, sequences * perExit),
                        Observer = LayerObserver,
                        CancellationToken = cancellationToken,
                    };
                    BatchRunner.Run(_encoder, s, sequences, _clsOnlyLastLayer, _deferral, _pool, ref request);
                    start = i;
                    sequences = tokens = longest = 0;
                }
                if (i == count) break;
                s.Staging.AsSpan(0, n).CopyTo(s.Ids.AsSpan(tokens));
                s.Offsets[sequences] = tokens;
                s.Truncated[sequences] = truncated;
                sequences++;
                tokens += n;
                longest = Math.Max(longest, n);
            }
        }
        finally
        {
            if (s is not null) _scratch.Return(s);
            _memory.Release();
        }
    }

    /// <summary>
    /// Stops the worker threads and unmaps the model files (and the weight cache) — at once, or when the last call
    /// still running finishes; such calls may fail, but never read unmapped memory. Later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _memory.Dispose();
        _pool.Dispose();
    }
}
