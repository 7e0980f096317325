namespace NativeEE.Batching;

/// <summary>What one forward pass over a chunk of sequences should produce. Spans are indexed by position in the chunk.</summary>
internal ref struct ForwardRequest
{
    /// <summary>The policy asked after every intermediate head; null = full depth without intermediate heads.</summary>
    public ExitPolicy? Policy;

    /// <summary>One prediction per sequence, or empty.</summary>
    public Span<Prediction> Results;

    /// <summary>Records every head's output (single-sequence calls only); forces intermediate heads to run.</summary>
    public PredictionTrace? Trace;

    /// <summary>[S, L, H]: the [CLS] hidden state after every layer, or empty.</summary>
    public Span<float> ClsStates;

    /// <summary>[S, E, C]: the logits of every exit head (E = heads, the final classifier last), or empty; forces intermediate heads to run.</summary>
    public Span<float> ExitLogits;

    /// <summary>[S, C]: the final classifier's logits, or empty.</summary>
    public Span<float> FinalLogits;

    public ILayerObserver? Observer;

    public CancellationToken CancellationToken;
}
