using System.Numerics;
using NativeEE.Kernels;

namespace NativeEE.Batching;

/// <summary>
/// Everything one forward pass writes: activations of the packed token rows, per-sequence [CLS] rows, head
/// outputs and bookkeeping. Owned by one call at a time (borrowed from <see cref="ScratchPool"/>).
/// </summary>
/// <remarks>
/// Index and id arrays are allocated at full capacity up front (they are small). Float buffers grow on demand,
/// in powers of two, up to the capacity — a service that only sees short sentences never pays for the longest —
/// so after a few calls nothing is allocated, and nothing ever grows past the bound.
/// </remarks>
internal sealed class InferenceScratch
{
    readonly int _hidden, _intermediate, _labels, _maxTokens, _capacity, _threads;
    int _tokenRows, _sequenceRows, _attentionLength;

    public InferenceScratch(int hidden, int intermediate, int labels, int maxTokens, int capacityTokens, int threads)
    {
        _hidden = hidden;
        _intermediate = intermediate;
        _labels = labels;
        _maxTokens = maxTokens;
        _capacity = capacityTokens;
        _threads = threads;
        Ids = new int[capacityTokens];
        Staging = new int[maxTokens];
        Offsets = new int[capacityTokens + 1];
        Index = new int[capacityTokens];
        States = new ExitState[capacityTokens];
        Truncated = new bool[capacityTokens];
        Exited = new bool[capacityTokens];
    }

    /// <summary>Token ids of the packed sequences, [T].</summary>
    public int[] Ids { get; }

    /// <summary>One tokenized text before it joins <see cref="Ids"/>, [MaxTokens].</summary>
    public int[] Staging { get; }

    /// <summary>Row offsets of the running sequences, [S + 1].</summary>
    public int[] Offsets { get; }

    /// <summary>Position in the caller's batch of each running sequence, [S].</summary>
    public int[] Index { get; }

    /// <summary>Exit policy state per sequence (indexed like <see cref="Offsets"/>), [S].</summary>
    public ExitState[] States { get; }

    /// <summary>Whether tokenization cut the text, by batch position, [S].</summary>
    public bool[] Truncated { get; }

    /// <summary>Which running sequences the policy finished after the current layer, [S].</summary>
    public bool[] Exited { get; }

    public float[] Hidden { get; private set; } = [];
    public float[] Qkv { get; private set; } = [];
    public float[] Context { get; private set; } = [];
    public float[] Sum { get; private set; } = [];
    public float[] Ffn { get; private set; } = [];
    public float[] AttentionScratch { get; private set; } = [];

    /// <summary>[CLS] hidden states of the running sequences, [S, H].</summary>
    public float[] Cls { get; private set; } = [];
    public float[] ClsContext { get; private set; } = [];
    public float[] ClsSum { get; private set; } = [];
    public float[] Logits { get; private set; } = [];
    public float[] Probabilities { get; private set; } = [];

    /// <summary>Makes the float buffers hold <paramref name="tokens"/> rows, <paramref name="sequences"/> sequences of at most <paramref name="longest"/> tokens.</summary>
    public void Ensure(int tokens, int sequences, int longest)
    {
        if (tokens > _tokenRows)
        {
            int rows = Grow(tokens, _capacity);
            Hidden = new float[rows * _hidden];
            Qkv = new float[rows * 3 * _hidden];
            Context = new float[rows * _hidden];
            Sum = new float[rows * _hidden];
            Ffn = new float[rows * _intermediate];
            _tokenRows = rows;
        }
        if (sequences > _sequenceRows)
        {
            int rows = Grow(sequences, _capacity);
            Cls = new float[rows * _hidden];
            ClsContext = new float[rows * _hidden];
            ClsSum = new float[rows * _hidden];
            Logits = new float[rows * _labels];
            Probabilities = new float[rows * _labels];
            _sequenceRows = rows;
        }
        if (longest > _attentionLength)
        {
            int length = Grow(longest, _maxTokens);
            AttentionScratch = new float[Attention.ScratchSize(length, _threads)];
            _attentionLength = length;
        }
    }

    static int Grow(int needed, int cap) => Math.Max(needed, Math.Min(cap, (int)BitOperations.RoundUpToPowerOf2((uint)needed)));
}
