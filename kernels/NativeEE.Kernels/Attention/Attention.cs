using System.Runtime.Intrinsics;

namespace NativeEE.Kernels;

/// <summary>
/// Multi-head scaled dot-product attention over a packed batch: sequences stored back to back,
/// <c>seqOffsets[b]..seqOffsets[b+1]</c> are the token rows of sequence b (no padding).
/// </summary>
/// <remarks>
/// One work item per (sequence, head), pulled from a shared counter by the pool's threads; each
/// thread owns one slice of <c>scratch</c>. Per item: S = Q·Kᵀ into the slice (see AttentionKernels),
/// then per query row scale, mask, max, exp and sum, then O = P·V with the 1/sum folded into the store.
/// </remarks>
public static partial class Attention
{
    /// <summary>Floats of scratch <see cref="Forward"/> needs for sequences up to <paramref name="maxSeqLen"/> tokens on <paramref name="threads"/> threads.</summary>
    /// <remarks>Independent of the head size and of the vector width: a thread's slice is the score matrix
    /// (rows rounded up to the row block, keys to the widest key block) plus one transposed K tile.</remarks>
    public static int ScratchSize(int maxSeqLen, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSeqLen);
        return checked((int)(AttentionKernels.ScratchPerThread(maxSeqLen) * Math.Max(1, threads)));
    }

    /// <summary>
    /// qkv[T, 3·H·D] (per token: Q heads, then K heads, then V heads; head h at columns h·D..h·D+D of each part)
    /// → output[T, H·D] = softmax(Q·Kᵀ/√D + mask) · V per sequence and head.
    /// <paramref name="keyMask"/> (optional, length T) is added to every score whose key is that token
    /// (0 = attend, large negative = padding). <paramref name="scratch"/> ≥ <see cref="ScratchSize"/>
    /// (for the pool's thread count; a smaller scratch runs on as many threads as it has slices for).
    /// A query whose keys are all masked with −∞ gets NaN, as in PyTorch. Allocates nothing.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<int> seqOffsets, int heads, int headDim,
        Span<float> output, Span<float> scratch, ReadOnlySpan<float> keyMask = default, WorkerPool? pool = null)
        => Forward(qkv, seqOffsets, heads, headDim, output, scratch, keyMask, pool, firstTokenOnly: false, Isa.Active);

    /// <summary>
    /// Like <see cref="Forward"/>, but computes only the first token of each sequence (the [CLS] row,
    /// all a classifier reads after the last layer): qkv[T, 3·H·D] → output[B, H·D], row b = sequence b's
    /// first token. Keys and values are still all of the sequence's tokens.
    /// </summary>
    public static void ForwardFirstToken(ReadOnlySpan<float> qkv, ReadOnlySpan<int> seqOffsets, int heads, int headDim,
        Span<float> output, Span<float> scratch, ReadOnlySpan<float> keyMask = default, WorkerPool? pool = null)
        => Forward(qkv, seqOffsets, heads, headDim, output, scratch, keyMask, pool, firstTokenOnly: true, Isa.Active);

    internal static unsafe void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<int> seqOffsets, int heads, int headDim,
        Span<float> output, Span<float> scratch, ReadOnlySpan<float> keyMask, WorkerPool? pool, bool firstTokenOnly, IsaPath path)
    {
        int maxLen = Validate(qkv, seqOffsets, heads, headDim, output, keyMask, firstTokenOnly);
        int batch = seqOffsets.Length - 1;
        if (batch <= 0 || maxLen == 0) return;
        long perThread = AttentionKernels.ScratchPerThread(maxLen);
        if (scratch.Length < perThread)
            throw new ArgumentException(
                $"scratch has {scratch.Length} floats but sequences of up to {maxLen} tokens need {perThread} per thread; size it with Attention.ScratchSize(maxSeqLen, threads).",
                nameof(scratch));
        int slots = (int)Math.Min(pool?.Threads ?? 1, Math.Min(scratch.Length / perThread, (long)batch * heads));

        fixed (float* q = qkv, o = output, s = scratch, m = keyMask)
        fixed (int* off = seqOffsets)
        {
            var work = t_work ??= new AttentionWork();
            work.Qkv = q;
            work.Output = o;
            work.Scratch = s;
            work.Mask = keyMask.IsEmpty ? null : m;
            work.Offsets = off;
            work.Batch = batch;
            work.Heads = heads;
            work.HeadDim = headDim;
            work.PerThread = perThread;
            work.FirstTokenOnly = firstTokenOnly;
            work.Path = path;
            work.Next = 0;
            try
            {
                if (slots <= 1 || pool is null) work.Execute(0);
                else pool.Run(work, slots);
            }
            finally
            {
                work.Clear();
            }
        }
    }

    // One reusable work object per calling thread, so a call allocates nothing after the first.
    [ThreadStatic] static AttentionWork? t_work;

    /// <summary>Checks the packed layout and returns the longest sequence.</summary>
    static int Validate(ReadOnlySpan<float> qkv, ReadOnlySpan<int> seqOffsets, int heads, int headDim,
        ReadOnlySpan<float> output, ReadOnlySpan<float> keyMask, bool firstTokenOnly)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(headDim, 1);
        if (seqOffsets.IsEmpty) throw new ArgumentException("seqOffsets is empty; it needs B + 1 entries (the first token of each sequence, then the end).", nameof(seqOffsets));
        if (seqOffsets[0] < 0) throw new ArgumentException($"seqOffsets[0] = {seqOffsets[0]} is negative.", nameof(seqOffsets));
        int maxLen = 0;
        for (int b = 0; b + 1 < seqOffsets.Length; b++)
        {
            int len = seqOffsets[b + 1] - seqOffsets[b];
            if (len < 0) throw new ArgumentException($"seqOffsets must not decrease, but seqOffsets[{b + 1}] = {seqOffsets[b + 1]} < seqOffsets[{b}] = {seqOffsets[b]}.", nameof(seqOffsets));
            maxLen = Math.Max(maxLen, len);
        }
        long tokens = seqOffsets[^1];
        long hidden = (long)heads * headDim;
        if (qkv.Length < tokens * 3 * hidden)
            throw new ArgumentException($"qkv has {qkv.Length} floats but {tokens} tokens × 3·{heads}·{headDim} need {tokens * 3 * hidden}.", nameof(qkv));
        long outRows = firstTokenOnly ? seqOffsets.Length - 1 : tokens;
        if (output.Length < outRows * hidden)
            throw new ArgumentException($"output has {output.Length} floats but {outRows} rows × {heads}·{headDim} need {outRows * hidden}.", nameof(output));
        if (!keyMask.IsEmpty && keyMask.Length < tokens)
            throw new ArgumentException($"keyMask has {keyMask.Length} entries but the batch has {tokens} tokens; it needs one per token (or none).", nameof(keyMask));
        return maxLen;
    }

    sealed unsafe class AttentionWork : IParallelWork
    {
        public float* Qkv, Output, Scratch, Mask;
        public int* Offsets;
        public int Batch, Heads, HeadDim, Next;
        public long PerThread;
        public bool FirstTokenOnly;
        public IsaPath Path;

        /// <summary>Slot <paramref name="slot"/> owns one scratch slice and pulls (sequence, head) items until none are left.</summary>
        public void Execute(int slot)
        {
            float* scratch = Scratch + slot * PerThread;
            int items = Batch * Heads, hidden = Heads * HeadDim;
            float scale = 1f / MathF.Sqrt(HeadDim);
            int item;
            while ((item = Interlocked.Increment(ref Next) - 1) < items)
            {
                int b = item / Heads, h = item % Heads;
                int s0 = Offsets[b], len = Offsets[b + 1] - s0;
                if (len == 0) continue;
                var head = new AttentionKernels.Head
                {
                    Q = Qkv + (long)s0 * 3 * hidden + h * HeadDim,
                    K = Qkv + (long)s0 * 3 * hidden + hidden + h * HeadDim,
                    V = Qkv + (long)s0 * 3 * hidden + 2 * hidden + h * HeadDim,
                    Stride = 3 * hidden,
                    Length = len,
                    HeadDim = HeadDim,
                    Scale = scale,
                    Mask = Mask is null ? null : Mask + s0,
                    Out = Output + (FirstTokenOnly ? (long)b * hidden : (long)s0 * hidden) + h * HeadDim,
                    OutStride = hidden,
                    Queries = FirstTokenOnly ? 1 : len,
                    Scratch = scratch,
                };
                switch (Path)
                {
                    case IsaPath.Vector512: AttentionKernels.Run<Vector512Width, Vector512<float>>(in head); break;
                    case IsaPath.Vector256: AttentionKernels.Run<Vector256Width, Vector256<float>>(in head); break;
                    case IsaPath.Vector128: AttentionKernels.Run<Vector128Width, Vector128<float>>(in head); break;
                    default: AttentionKernels.Run<ScalarWidth, float>(in head); break;
                }
            }
        }

        public void Clear()
        {
            Qkv = Output = Scratch = Mask = null;
            Offsets = null;
        }
    }

    /// <summary>Scalar oracle (double accumulation): qkv[T, 3·H·D] → output[T, H·D], as <see cref="Forward"/>.</summary>
    public static void ForwardReference(ReadOnlySpan<float> qkv, ReadOnlySpan<int> seqOffsets, int heads, int headDim,
        Span<float> output, ReadOnlySpan<float> keyMask = default)
    {
        int hidden = heads * headDim, stride = 3 * hidden;
        double scale = 1.0 / Math.Sqrt(headDim);
        for (int b = 0; b + 1 < seqOffsets.Length; b++)
        {
            int s0 = seqOffsets[b], len = seqOffsets[b + 1] - s0;
            var scores = new double[len];
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < len; i++)
                {
                    var q = qkv.Slice((s0 + i) * stride + h * headDim, headDim);
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < len; j++)
                    {
                        var kk = qkv.Slice((s0 + j) * stride + hidden + h * headDim, headDim);
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) dot += (double)q[d] * kk[d];
                        dot = dot * scale + (keyMask.IsEmpty ? 0 : keyMask[s0 + j]);
                        scores[j] = dot;
                        max = Math.Max(max, dot);
                    }
                    double sum = 0;
                    for (int j = 0; j < len; j++) { scores[j] = Math.Exp(scores[j] - max); sum += scores[j]; }
                    var o = output.Slice((s0 + i) * hidden + h * headDim, headDim);
                    for (int d = 0; d < headDim; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < len; j++) acc += scores[j] * qkv[(s0 + j) * stride + 2 * hidden + h * headDim + d];
                        o[d] = (float)(acc / sum);
                    }
                }
            }
        }
    }
}
