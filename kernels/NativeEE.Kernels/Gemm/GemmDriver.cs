using System.Runtime.CompilerServices;

namespace NativeEE.Kernels;

/// <summary>Raw pointers of one Multiply call: spans are pinned by the caller for the call's duration.</summary>
internal unsafe struct GemmArgs
{
    public float* X;         // [M,K] row-major
    public float* W;         // packed panels
    public float* Bias;      // [N] or null
    public float* Y;         // [M,N] row-major
    public float* Residual;  // [M,N] or null
    public int M, N, K;
    public Epilogue Epilogue;
}

/// <summary>
/// The loop nest around one microkernel (pack → macro loop → microkernel, after BLIS). W is packed
/// once ahead of time; X is read in place — the "sup" choice for the small M (8–60 tokens) we care
/// about, where packing X would cost as much as the multiply.
/// Loop order per rectangle of Y: N chunk → K block → panel → row block. Each W panel (kc×NR) is fetched
/// once and reused by every row block right away, while the X slice (M×kc) stays in cache.
/// In a forward pass W is cold (each layer has its own weights, more than the last-level cache) and at
/// small M streaming W from DRAM is the bottleneck, so each microkernel call also prefetches a share of
/// the NEXT panel (1/row-blocks of it): the stream spreads evenly over all the FMAs instead of stalling
/// the first row block. A lone row block (M ≤ MR) prefetches <see cref="PrefetchAhead"/> floats ahead of
/// its own panel instead. Measured on Zen 5, 1 thread, cold weights, MiniLM shapes, against the earlier
/// order (row block → panel, no prefetch) in the same process: AVX-512 M = 3 ≈ +20 %, M = 8 ≈ +25 %,
/// M = 16 ≈ +35 %, M = 25 ≈ +25 %, M = 48 ≈ +10 %, BERT-base M = 128 ≈ +15 %, M = 512–1024 unchanged;
/// AVX2 M = 8 ≈ +40 %, M = 25 ≈ +30 %. Hot weights: unchanged from M = 8 up (within noise, −3 % at M = 8).
/// M ≤ 2 gains nothing cold (the 1–2-row loop keeps enough loads in flight by itself) and lost ~30 % hot
/// to the extra load-port work, so it does not prefetch; M = 3–4 pays ~20 % hot for its cold gain.
/// </summary>
internal static unsafe class GemmDriver<TKernel> where TKernel : struct, IMicroKernel
{
    /// <summary>Floats of W per KC×NC block: 576 KB, about half of a 1 MB L2 (KC = 768 → NC = 192).</summary>
    const int WBlockFloats = 147456;

    /// <summary>Prefetch distance with one row block: 8 KB covers ~300 ns of DRAM latency at ~25 GB/s (4 KB and 16 KB measured no better).</summary>
    const int PrefetchAhead = 2048;

    /// <summary>Fewest rows of a lone row block that prefetch (see the class summary).</summary>
    const int PrefetchMinRows = 3;

    internal static int Panels(int n) => (n + TKernel.NR - 1) / TKernel.NR;

    /// <summary>
    /// Y's rows are cut once into ⌈M/MR⌉ blocks of near-equal height (25 rows → 5,5,5,5,5 rather than
    /// 6,6,6,6,1: a 1-row tile runs at a fraction of the FMA rate). Threads take whole blocks, so
    /// every element is summed in the same order whatever the split: threaded output is
    /// bit-identical to single-threaded.
    /// </summary>
    internal readonly struct RowBlocks(int m)
    {
        public readonly int Count = (m + TKernel.MR - 1) / TKernel.MR;
        readonly int _height = m / ((m + TKernel.MR - 1) / TKernel.MR);
        readonly int _taller = m % ((m + TKernel.MR - 1) / TKernel.MR);

        public int Start(int block) => block * _height + Math.Min(block, _taller);
    }

    /// <summary>Computes row blocks [b0,b1) × panels [pj0,pj1) of Y, epilogue included.</summary>
    [SkipLocalsInit]
    internal static void RunBlock(in GemmArgs g, int b0, int b1, int pj0, int pj1)
    {
        int nr = TKernel.NR, k = g.K, n = g.N;
        int kBlocks = (k + TKernel.KC - 1) / TKernel.KC;
        int kcStep = (k + kBlocks - 1) / kBlocks;
        int ncPanels = Math.Max(1, WBlockFloats / kcStep / nr);
        var blocks = new RowBlocks(g.M);
        int rowBlocks = b1 - b0;
        // Several row blocks share the next panel's prefetch: block t takes the t-th slice of kc·step floats.
        nint shareStep = (nr + rowBlocks - 1) / rowBlocks;
        float* tile = stackalloc float[TKernel.MR * TKernel.NR];
        float* edgeBias = stackalloc float[TKernel.NR];

        for (int jc = pj0; jc < pj1; jc += ncPanels)
        {
            int jcEnd = Math.Min(jc + ncPanels, pj1);
            int c0 = jc * nr, c1 = Math.Min(jcEnd * nr, n);
            // The last panel of Y may be ragged: give it a zero-padded bias like its zero-padded W panel.
            if (g.Bias != null && c1 - (jcEnd - 1) * nr < nr)
            {
                int n0 = (jcEnd - 1) * nr;
                for (int c = 0; c < nr; c++) edgeBias[c] = n0 + c < n ? g.Bias[n0 + c] : 0f;
            }
            for (int k0 = 0; k0 < k; k0 += kcStep)
            {
                int kc = Math.Min(kcStep, k - k0);
                bool accumulate = k0 > 0, last = k0 + kc == k;
                // The first panel of the next W block, which the last panel's calls prefetch.
                float* nextBlock = !last ? g.W + ((long)jc * k + k0 + kc) * nr
                    : jcEnd < pj1 ? g.W + (long)jcEnd * k * nr : null;
                for (int pj = jc; pj < jcEnd; pj++)
                {
                    int n0 = pj * nr, cols = Math.Min(nr, n - n0);
                    float* b = g.W + ((long)pj * k + k0) * nr;
                    float* next = pj + 1 < jcEnd ? b + (long)k * nr : nextBlock;
                    float* bias = !last || g.Bias == null ? null : cols == nr ? g.Bias + n0 : edgeBias;
                    for (int blk = b0; blk < b1; blk++)
                    {
                        int i = blocks.Start(blk), rows = blocks.Start(blk + 1) - i;
                        float* a = g.X + (long)i * k + k0;
                        float* c = g.Y + (long)i * n + n0;
                        if (cols < nr) EdgeTile(rows, a, k, b, kc, c, n, cols, accumulate, bias, tile);
                        else if (rowBlocks > 1)
                        {
                            if (next == null) TKernel.Run<PrefetchNone>(rows, a, k, b, kc, c, n, accumulate, bias, null, 0);
                            else TKernel.Run<PrefetchOneLine>(rows, a, k, b, kc, c, n, accumulate, bias, next + (blk - b0) * kc * shareStep, shareStep);
                        }
                        else if (rows < PrefetchMinRows) TKernel.Run<PrefetchNone>(rows, a, k, b, kc, c, n, accumulate, bias, null, 0);
                        else if (nr > 16) TKernel.Run<PrefetchTwoLines>(rows, a, k, b, kc, c, n, accumulate, bias, b + PrefetchAhead, nr);
                        else TKernel.Run<PrefetchOneLine>(rows, a, k, b, kc, c, n, accumulate, bias, b + PrefetchAhead, nr);
                    }
                }
                if (last) ApplyEpilogue(g, blocks.Start(b0), blocks.Start(b1), c0, c1);
            }
        }
    }

    /// <summary>Ragged last panel: the full-width tile runs into scratch and only the real columns are copied.</summary>
    static void EdgeTile(int rows, float* a, nint lda, float* b, int kc, float* c, int n, int cols, bool accumulate, float* bias, float* tile)
    {
        int nr = TKernel.NR;
        if (accumulate)
            for (int r = 0; r < rows; r++)
                new ReadOnlySpan<float>(c + (long)r * n, cols).CopyTo(new Span<float>(tile + r * nr, cols));
        TKernel.Run<PrefetchNone>(rows, a, lda, b, kc, tile, nr, accumulate, bias, null, 0);
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(tile + r * nr, cols).CopyTo(new Span<float>(c + (long)r * n, cols));
    }

    /// <summary>Activation then residual add over Y[i0..i1, c0..c1), while that block is still in cache.</summary>
    static void ApplyEpilogue(in GemmArgs g, int i0, int i1, int c0, int c1)
    {
        if (g.Epilogue == Epilogue.None && g.Residual == null) return;
        int len = c1 - c0;
        for (int i = i0; i < i1; i++)
        {
            long at = (long)i * g.N + c0;
            var row = new Span<float>(g.Y + at, len);
            if (g.Epilogue == Epilogue.Gelu) Activations.Gelu(row, row);
            else if (g.Epilogue == Epilogue.Tanh) Activations.Tanh(row, row);
            if (g.Residual != null) Activations.Add(row, new ReadOnlySpan<float>(g.Residual + at, len), row);
        }
    }

    /// <summary>Whole product on the calling thread, or split into rectangles over <paramref name="pool"/>.</summary>
    internal static void Run(in GemmArgs g, WorkerPool? pool)
    {
        int panels = Panels(g.N);
        // Below ~2 M multiply-adds a core finishes in ~20 µs: waking a worker would cost more than it saves.
        // Fewer than 8 rows count as 8: such products are bound by streaming W, not by the FMA rate.
        if (pool is null || pool.Threads == 1 || (long)Math.Max(g.M, 8) * g.N * g.K < (1L << 21))
        {
            RunBlock(g, 0, new RowBlocks(g.M).Count, 0, panels);
            return;
        }
        GemmJob<TKernel>.Run(g, pool, panels);
    }
}

/// <summary>
/// One parallel Multiply: Y is cut into mParts × nParts rectangles that threads claim one at a time.
/// N is split first (each thread then streams only its share of W, which is the big operand when
/// M is small); M only when there are too few panels. About 4 rectangles per thread lets a thread
/// that lost its core to another process catch up. One instance per calling thread, reused: 0 bytes per call.
/// </summary>
internal sealed unsafe class GemmJob<TKernel> : IParallelWork where TKernel : struct, IMicroKernel
{
    [ThreadStatic] static GemmJob<TKernel>? t_job;

    GemmArgs _args;
    int _mParts, _nParts, _blocks, _panels;

    internal static void Run(in GemmArgs g, WorkerPool pool, int panels)
    {
        var job = t_job ??= new GemmJob<TKernel>();
        int target = pool.Threads * 4;
        int blocks = new GemmDriver<TKernel>.RowBlocks(g.M).Count;
        int nParts = Math.Min(panels, target);
        int mParts = Math.Min(blocks, (target + nParts - 1) / nParts);
        job._args = g;
        job._mParts = mParts;
        job._nParts = nParts;
        job._blocks = blocks;
        job._panels = panels;
        try
        {
            pool.Run(job, mParts * nParts);
        }
        finally
        {
            job._args = default;
        }
    }

    public void Execute(int index)
    {
        int mi = index / _nParts, ni = index % _nParts;
        int b0 = (int)((long)_blocks * mi / _mParts), b1 = (int)((long)_blocks * (mi + 1) / _mParts);
        int p0 = (int)((long)_panels * ni / _nParts), p1 = (int)((long)_panels * (ni + 1) / _nParts);
        if (b0 < b1 && p0 < p1) GemmDriver<TKernel>.RunBlock(_args, b0, b1, p0, p1);
    }
}
