using System.Runtime.CompilerServices;

namespace NativeEE.Kernels;

/// <summary>
/// One (sequence, head) of attention, written once for every vector width.
/// </summary>
/// <remarks>
/// Sequences are short (8–128 tokens), so the whole score matrix S[L, L] of a head fits in L1/L2 and
/// the work is organised like a tiny GEMM:
/// <list type="number">
/// <item>S = Q·Kᵀ: K is transposed one tile at a time (up to 64 dims × one key block of 2 vectors) so that a
/// score row is built with broadcast-q × K-tile FMAs over whole vectors of keys; every tile is reused by
/// all query rows, 6 rows at a time (12 accumulators, enough independent FMAs to cover their latency on
/// two FMA pipes, and 15 registers in all: fits AVX2). No horizontal sums.</item>
/// <item>Per query row: s·scale + mask, max, exp(s − max) and the sum (the row stays in scratch; keys
/// past L are set to −∞ so the exp pass has no scalar tail).</item>
/// <item>O = P·V: 6 query rows × 2 vectors of the head's columns accumulate p·V rows with FMAs; the
/// 1/sum is applied at the store. Columns left over (head sizes not a multiple of the width) take a
/// one-vector and then a scalar pass of the same kernel.</item>
/// </list>
/// Rows past the last query (up to the row block) recompute the last row and are never stored, so no
/// kernel has a ragged row edge; keys past L are zero in the tile, −∞ after the mask, 0 after exp.
/// </remarks>
internal static unsafe class AttentionKernels
{
    /// <summary>Query rows per block: 6 rows × 2 vectors = 12 accumulators, + 2 K/V vectors + 1 broadcast = 15 registers (AVX2 has 16).</summary>
    const int RowBlock = 6;
    /// <summary>Head dimensions per transposed K tile: BERT's 64 in one tile (8 KB, L1-resident), so S is written once.</summary>
    const int DimChunk = 64;
    /// <summary>Widest key block: 2 vectors of 16 lanes; narrower widths divide it.</summary>
    const int MaxKeyBlock = 32;

    static int RoundUp(int v, int m) => (v + m - 1) / m * m;

    /// <summary>Floats one thread needs for sequences up to <paramref name="maxLen"/> tokens, on any width.</summary>
    public static long ScratchPerThread(int maxLen)
        => (long)RoundUp(maxLen, RowBlock) * RoundUp(maxLen, MaxKeyBlock) + DimChunk * MaxKeyBlock + RoundUp(maxLen, RowBlock);

    /// <summary>One (sequence, head) work item. Q, K, V point at the head's first element in the first token's row.</summary>
    public struct Head
    {
        public float* Q, K, V;
        /// <summary>Floats between consecutive tokens in qkv (3·H·D).</summary>
        public int Stride;
        public int Length, HeadDim;
        public float Scale;
        /// <summary>Additive key mask for this sequence's tokens, or null.</summary>
        public float* Mask;
        /// <summary>Output row of the first computed query, head slice; rows are OutStride apart.</summary>
        public float* Out;
        public int OutStride;
        /// <summary>Query rows to compute: the first Queries tokens (Length, or 1 for the first token only).</summary>
        public int Queries;
        public float* Scratch;
    }

    [SkipLocalsInit]
    public static void Run<W, TV>(ref readonly Head head) where W : IVectorWidth<TV> where TV : struct
    {
        int len = head.Length, queries = head.Queries;
        int keyBlock = 2 * W.Count;
        int ld = RoundUp(len, keyBlock);
        int rows = RoundUp(queries, RowBlock);
        float* s = head.Scratch;
        float* tile = s + (long)rows * ld;
        float* inv = tile + DimChunk * MaxKeyBlock;

        Scores<W, TV>(in head, s, ld, rows, tile);
        for (int i = 0; i < queries; i++)
        {
            ref float row = ref *(s + (long)i * ld);
            float max = ScaleMaskMax<W, TV>(ref row, head.Mask, len, ld, head.Scale);
            inv[i] = 1f / RowKernels.ExpSum<W, TV>(ref row, ref row, ld, max);
        }
        int c = 0;
        for (; c + 2 * W.Count <= head.HeadDim; c += 2 * W.Count) WeightedValuesTwo<W, TV>(in head, s, ld, inv, c);
        for (; c + W.Count <= head.HeadDim; c += W.Count) WeightedValuesOne<W, TV>(in head, s, ld, inv, c);
        for (; c < head.HeadDim; c++) WeightedValuesOne<ScalarWidth, float>(in head, s, ld, inv, c);
    }

    /// <summary>S[rows, ld] = Q·Kᵀ (unscaled) for the first <c>rows</c> queries (clamped to the last real one).</summary>
    static void Scores<W, TV>(ref readonly Head head, float* s, int ld, int rows, float* tile) where W : IVectorWidth<TV> where TV : struct
    {
        int w = W.Count, keyBlock = 2 * w, len = head.Length, dim = head.HeadDim, stride = head.Stride;
        int lastQuery = head.Queries - 1;
        for (int j0 = 0; j0 < len; j0 += keyBlock)
        {
            for (int d0 = 0; d0 < dim; d0 += DimChunk)
            {
                int dl = Math.Min(DimChunk, dim - d0);
                for (int c = 0; c < keyBlock; c++)
                {
                    float* k = head.K + (long)(j0 + c) * stride + d0;
                    if (j0 + c < len)
                        for (int d = 0; d < dl; d++) tile[d * keyBlock + c] = k[d];
                    else
                        for (int d = 0; d < dl; d++) tile[d * keyBlock + c] = 0f;
                }
                for (int i = 0; i < rows; i += RowBlock)
                {
                    float* q0 = head.Q + (long)Math.Min(i, lastQuery) * stride + d0;
                    float* q1 = head.Q + (long)Math.Min(i + 1, lastQuery) * stride + d0;
                    float* q2 = head.Q + (long)Math.Min(i + 2, lastQuery) * stride + d0;
                    float* q3 = head.Q + (long)Math.Min(i + 3, lastQuery) * stride + d0;
                    float* q4 = head.Q + (long)Math.Min(i + 4, lastQuery) * stride + d0;
                    float* q5 = head.Q + (long)Math.Min(i + 5, lastQuery) * stride + d0;
                    float* s0 = s + (long)i * ld + j0;
                    float* s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld, s4 = s3 + ld, s5 = s4 + ld;
                    TV a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
                    if (d0 == 0)
                    {
                        a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = a40 = a41 = a50 = a51 = W.Create(0f);
                    }
                    else
                    {
                        a00 = W.Load(in *s0); a01 = W.Load(in *(s0 + w));
                        a10 = W.Load(in *s1); a11 = W.Load(in *(s1 + w));
                        a20 = W.Load(in *s2); a21 = W.Load(in *(s2 + w));
                        a30 = W.Load(in *s3); a31 = W.Load(in *(s3 + w));
                        a40 = W.Load(in *s4); a41 = W.Load(in *(s4 + w));
                        a50 = W.Load(in *s5); a51 = W.Load(in *(s5 + w));
                    }
                    float* t = tile;
                    for (int d = 0; d < dl; d++, t += keyBlock)
                    {
                        TV k0 = W.Load(in *t), k1 = W.Load(in *(t + w));
                        TV b = W.Create(q0[d]);
                        a00 = W.MultiplyAdd(b, k0, a00); a01 = W.MultiplyAdd(b, k1, a01);
                        b = W.Create(q1[d]);
                        a10 = W.MultiplyAdd(b, k0, a10); a11 = W.MultiplyAdd(b, k1, a11);
                        b = W.Create(q2[d]);
                        a20 = W.MultiplyAdd(b, k0, a20); a21 = W.MultiplyAdd(b, k1, a21);
                        b = W.Create(q3[d]);
                        a30 = W.MultiplyAdd(b, k0, a30); a31 = W.MultiplyAdd(b, k1, a31);
                        b = W.Create(q4[d]);
                        a40 = W.MultiplyAdd(b, k0, a40); a41 = W.MultiplyAdd(b, k1, a41);
                        b = W.Create(q5[d]);
                        a50 = W.MultiplyAdd(b, k0, a50); a51 = W.MultiplyAdd(b, k1, a51);
                    }
                    W.Store(a00, ref *s0); W.Store(a01, ref *(s0 + w));
                    W.Store(a10, ref *s1); W.Store(a11, ref *(s1 + w));
                    W.Store(a20, ref *s2); W.Store(a21, ref *(s2 + w));
                    W.Store(a30, ref *s3); W.Store(a31, ref *(s3 + w));
                    W.Store(a40, ref *s4); W.Store(a41, ref *(s4 + w));
                    W.Store(a50, ref *s5); W.Store(a51, ref *(s5 + w));
                }
            }
        }
    }

    /// <summary>
    /// row[j] = row[j]·scale + mask[j] for j &lt; len and −∞ for len ≤ j &lt; ld; returns the new maximum.
    /// The −∞ padding lets the exp pass run whole vectors over ld (exp(−∞) = 0 adds nothing): a 25-token
    /// row would otherwise spend most of its time in 9 scalar exps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float ScaleMaskMax<W, TV>(ref float row, float* mask, int len, int ld, float scale) where W : IVectorWidth<TV> where TV : struct
    {
        for (int pad = len; pad < ld; pad++) Unsafe.Add(ref row, pad) = float.NegativeInfinity;
        int w = W.Count, j = 0;
        TV vs = W.Create(scale);
        TV vmax = W.Create(float.NegativeInfinity);
        float max = float.NegativeInfinity;
        if (mask is null)
        {
            for (; j <= len - w; j += w)
            {
                TV v = W.Multiply(W.Load(in Unsafe.Add(ref row, j)), vs);
                W.Store(v, ref Unsafe.Add(ref row, j));
                vmax = W.MaxNative(vmax, v);
            }
            for (; j < len; j++) { float v = Unsafe.Add(ref row, j) * scale; Unsafe.Add(ref row, j) = v; max = MathF.Max(max, v); }
        }
        else
        {
            for (; j <= len - w; j += w)
            {
                TV v = W.MultiplyAdd(W.Load(in Unsafe.Add(ref row, j)), vs, W.Load(in *(mask + j)));
                W.Store(v, ref Unsafe.Add(ref row, j));
                vmax = W.MaxNative(vmax, v);
            }
            for (; j < len; j++) { float v = Unsafe.Add(ref row, j) * scale + mask[j]; Unsafe.Add(ref row, j) = v; max = MathF.Max(max, v); }
        }
        return MathF.Max(max, W.MaxAcross(vmax));
    }

    /// <summary>Out[i, c..c+2w) = inv[i]·Σⱼ P[i, j]·V[j, c..c+2w) for every query row i.</summary>
    static void WeightedValuesTwo<W, TV>(ref readonly Head head, float* p, int ld, float* inv, int c) where W : IVectorWidth<TV> where TV : struct
    {
        int w = W.Count, len = head.Length, queries = head.Queries, stride = head.Stride;
        for (int i = 0; i < queries; i += RowBlock)
        {
            float* p0 = p + (long)i * ld, p1 = p0 + ld, p2 = p1 + ld, p3 = p2 + ld, p4 = p3 + ld, p5 = p4 + ld;
            TV a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = a40 = a41 = a50 = a51 = W.Create(0f);
            float* v = head.V + c;
            for (int j = 0; j < len; j++, v += stride)
            {
                TV v0 = W.Load(in *v), v1 = W.Load(in *(v + w));
                TV b = W.Create(p0[j]);
                a00 = W.MultiplyAdd(b, v0, a00); a01 = W.MultiplyAdd(b, v1, a01);
                b = W.Create(p1[j]);
                a10 = W.MultiplyAdd(b, v0, a10); a11 = W.MultiplyAdd(b, v1, a11);
                b = W.Create(p2[j]);
                a20 = W.MultiplyAdd(b, v0, a20); a21 = W.MultiplyAdd(b, v1, a21);
                b = W.Create(p3[j]);
                a30 = W.MultiplyAdd(b, v0, a30); a31 = W.MultiplyAdd(b, v1, a31);
                b = W.Create(p4[j]);
                a40 = W.MultiplyAdd(b, v0, a40); a41 = W.MultiplyAdd(b, v1, a41);
                b = W.Create(p5[j]);
                a50 = W.MultiplyAdd(b, v0, a50); a51 = W.MultiplyAdd(b, v1, a51);
            }
            int n = Math.Min(RowBlock, queries - i);
            float* o = head.Out + (long)i * head.OutStride + c;
            StoreScaled<W, TV>(a00, a01, inv[i], o, w);
            if (n > 1) StoreScaled<W, TV>(a10, a11, inv[i + 1], o + head.OutStride, w);
            if (n > 2) StoreScaled<W, TV>(a20, a21, inv[i + 2], o + 2 * head.OutStride, w);
            if (n > 3) StoreScaled<W, TV>(a30, a31, inv[i + 3], o + 3 * head.OutStride, w);
            if (n > 4) StoreScaled<W, TV>(a40, a41, inv[i + 4], o + 4 * head.OutStride, w);
            if (n > 5) StoreScaled<W, TV>(a50, a51, inv[i + 5], o + 5 * head.OutStride, w);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreScaled<W, TV>(TV lo, TV hi, float scale, float* o, int w) where W : IVectorWidth<TV> where TV : struct
    {
        TV r = W.Create(scale);
        W.Store(W.Multiply(lo, r), ref *o);
        W.Store(W.Multiply(hi, r), ref *(o + w));
    }

    /// <summary>Out[i, c..c+w) = inv[i]·Σⱼ P[i, j]·V[j, c..c+w) for every query row i.</summary>
    static void WeightedValuesOne<W, TV>(ref readonly Head head, float* p, int ld, float* inv, int c) where W : IVectorWidth<TV> where TV : struct
    {
        int len = head.Length, queries = head.Queries, stride = head.Stride;
        for (int i = 0; i < queries; i += RowBlock)
        {
            float* p0 = p + (long)i * ld, p1 = p0 + ld, p2 = p1 + ld, p3 = p2 + ld, p4 = p3 + ld, p5 = p4 + ld;
            TV a0, a1, a2, a3, a4, a5;
            a0 = a1 = a2 = a3 = a4 = a5 = W.Create(0f);
            float* v = head.V + c;
            for (int j = 0; j < len; j++, v += stride)
            {
                TV v0 = W.Load(in *v);
                a0 = W.MultiplyAdd(W.Create(p0[j]), v0, a0);
                a1 = W.MultiplyAdd(W.Create(p1[j]), v0, a1);
                a2 = W.MultiplyAdd(W.Create(p2[j]), v0, a2);
                a3 = W.MultiplyAdd(W.Create(p3[j]), v0, a3);
                a4 = W.MultiplyAdd(W.Create(p4[j]), v0, a4);
                a5 = W.MultiplyAdd(W.Create(p5[j]), v0, a5);
            }
            int n = Math.Min(RowBlock, queries - i);
            float* o = head.Out + (long)i * head.OutStride + c;
            W.Store(W.Multiply(a0, W.Create(inv[i])), ref *o);
            if (n > 1) W.Store(W.Multiply(a1, W.Create(inv[i + 1])), ref *(o + head.OutStride));
            if (n > 2) W.Store(W.Multiply(a2, W.Create(inv[i + 2])), ref *(o + 2 * head.OutStride));
            if (n > 3) W.Store(W.Multiply(a3, W.Create(inv[i + 3])), ref *(o + 3 * head.OutStride));
            if (n > 4) W.Store(W.Multiply(a4, W.Create(inv[i + 4])), ref *(o + 4 * head.OutStride));
            if (n > 5) W.Store(W.Multiply(a5, W.Create(inv[i + 5])), ref *(o + 5 * head.OutStride));
        }
    }
}
